// Runs the site's unit tests on their own (`vitest run -c site/test/unit/vitest.config.ts`)
// until the root vitest.config.ts's unit project includes site/test/unit/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { root: new URL('../../..', import.meta.url).pathname, include: ['site/test/unit/**/*.test.ts'], environment: 'node', name: 'site-unit' },
});
