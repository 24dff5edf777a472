import { describe, expect, it } from 'vitest';
import readme from '../README.md?raw';
import { modelsMarkdown } from '../scripts/models-markdown';

describe('README.md', () => {
  it('lists the models exactly as the catalog defines them (run `npm run docs` after changing one)', () => {
    expect(readme).toContain(modelsMarkdown());
  });
});
