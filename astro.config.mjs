// @ts-check
// The site lives in site/ and builds to dist/, which the runner serves on the same
// origin as its API (so the client uses relative /api URLs and a location-derived ws URL).
import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import { fileURLToPath } from 'node:url';

// monaco-editor 0.57's exports map sends `monaco-editor/esm/vs/x.js` to esm/vs/esm/vs/x.js, which
// breaks monaco-yaml's worker (it imports the deep path). Resolve deep paths to the files.
const monacoEsm = fileURLToPath(new URL('./node_modules/monaco-editor/esm/vs/', import.meta.url));

export default defineConfig({
  srcDir: './site',
  publicDir: './site/public',
  outDir: './dist',
  trailingSlash: 'ignore',
  integrations: [
    starlight({
      title: 'svclab',
      description: 'Hands-on labs for Kubernetes Service networking on a real cluster.',
      defaultLocale: 'root',
      locales: {
        root: { label: 'English', lang: 'en' },
        'zh-cn': { label: '简体中文', lang: 'zh-CN' },
      },
      sidebar: [
        {
          label: 'Start here',
          translations: { 'zh-CN': '从这里开始' },
          items: [{ slug: 'getting-started' }],
        },
        {
          label: 'Labs',
          translations: { 'zh-CN': '实验' },
          // One lesson per lab, ordered by their NN- prefix.
          items: [{ autogenerate: { directory: 'labs' } }],
        },
        {
          label: 'Workshops',
          translations: { 'zh-CN': '工作坊' },
          items: [{ slug: 'instructor' }],
        },
      ],
      components: {
        // Lesson pages (frontmatter `lab:`) swap the table of contents for the lab panel.
        TwoColumnContent: './site/components/LessonColumns.astro',
      },
      customCss: ['./site/styles/lab.css'],
    }),
  ],
  vite: {
    resolve: {
      alias: [{ find: /^monaco-editor\/esm\/vs\/(.*)$/, replacement: `${monacoEsm}$1` }],
    },
    // Monaco's and monaco-yaml's workers import shared chunks, so they must be ES module workers.
    worker: { format: 'es' },
    build: { chunkSizeWarningLimit: 6000 },
  },
});
