import { quantile, SECTION_HEADING, upsertSection } from './mount-roundtrip.js';

describe('mount-roundtrip helpers', () => {
  test('quantile is nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  test('upsertSection creates the document, appends, and replaces only its own section', () => {
    const mine = `${SECTION_HEADING}\n\nnew numbers\n`;
    expect(upsertSection('', mine)).toBe(`# Performance\n\n${mine}`);
    const other = '# Performance\n\n## Sync of 1000 SecretSyncs\n\ntheirs\n';
    const appended = upsertSection(other, mine);
    expect(appended).toBe(`${other}\n${mine}`);
    const old = `# Performance\n\n## Sync of 1000 SecretSyncs\n\ntheirs\n\n${SECTION_HEADING}\n\nold numbers\n### detail\nold\n\n## Later section\n\nkept\n`;
    expect(upsertSection(old, mine)).toBe(`# Performance\n\n## Sync of 1000 SecretSyncs\n\ntheirs\n\n${SECTION_HEADING}\n\nnew numbers\n\n## Later section\n\nkept\n`);
  });
});
