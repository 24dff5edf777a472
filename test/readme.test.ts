import { describe, expect, it } from 'vitest';
import readme from '../README.md?raw';
import { modelsMarkdown } from '../scripts/models-markdown';
import { providersMarkdown } from '../scripts/providers-markdown';

describe('README.md', () => {
  it('lists the models exactly as the catalog defines them (run `npm run docs` after changing one)', () => {
    expect(readme).toContain(modelsMarkdown());
  });

  it('lists the providers, their sources, limits and unconfirmed facts exactly as the adapters declare them (`npm run docs`)', () => {
    expect(readme).toContain(providersMarkdown());
  });
});
