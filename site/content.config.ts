import { defineCollection } from 'astro:content';
import { z } from 'astro/zod';
import { docsLoader } from '@astrojs/starlight/loaders';
import { docsSchema } from '@astrojs/starlight/schema';

export const collections = {
  docs: defineCollection({
    loader: docsLoader(),
    schema: docsSchema({
      extend: z.object({
        /** Id of the lab (labs/<id>/lab.yaml) whose panel sits beside this lesson. */
        lab: z.string().regex(/^\d\d-[a-z0-9-]+$/).optional(),
      }),
    }),
  }),
};
