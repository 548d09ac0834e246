import {
  AudienceConfigError,
  audiencesFor,
  normalizeAudiences,
  parseAudienceList,
  parseProviderAudiences,
} from './audiences.js';

describe('normalizeAudiences / parseAudienceList', () => {
  it('trims, drops empty audiences and removes duplicates in order', () => {
    expect(normalizeAudiences([' vault ', '', '  ', 'aws', 'vault'])).toEqual(['vault', 'aws']);
    expect(parseAudienceList('vault, sts.amazonaws.com,,vault')).toEqual(['vault', 'sts.amazonaws.com']);
  });

  it('gives no audience for an empty or blank flag', () => {
    expect(parseAudienceList('')).toEqual([]);
    expect(parseAudienceList(' , ')).toEqual([]);
  });
});

describe('parseProviderAudiences', () => {
  it('parses provider=aud1;aud2 entries separated by commas', () => {
    const parsed = parseProviderAudiences('vault=vault,aws=sts.amazonaws.com;other');
    expect(Object.fromEntries(parsed)).toEqual({ vault: ['vault'], aws: ['sts.amazonaws.com', 'other'] });
  });

  it('ignores whitespace, empty entries and empty or duplicate audiences', () => {
    const parsed = parseProviderAudiences(' vault = a ; ; b;a , ,gcp=//iam.googleapis.com/projects/1/x,');
    expect(Object.fromEntries(parsed)).toEqual({ vault: ['a', 'b'], gcp: ['//iam.googleapis.com/projects/1/x'] });
  });

  it('keeps "=" inside an audience (the entry splits at its first "=")', () => {
    expect(parseProviderAudiences('azure=api://x?a=b').get('azure')).toEqual(['api://x?a=b']);
  });

  it('accepts "provider=" as "no audience for this provider"', () => {
    expect(parseProviderAudiences('fake=').get('fake')).toEqual([]);
  });

  it('gives an empty mapping for an empty value', () => {
    expect(parseProviderAudiences('').size).toBe(0);
    expect(parseProviderAudiences('  ').size).toBe(0);
  });

  it.each([
    ['vault', /expected <provider>=<aud1>;<aud2>/],
    ['vault=a,aws', /entry "aws"/],
    ['=aud', /invalid provider name ""/],
    ['my provider=aud', /invalid provider name "my provider"/],
    ['a/b=aud', /invalid provider name "a\/b"/],
    [`${'p'.repeat(31)}=aud`, /invalid provider name/],
    ['vault=a,vault=b', /provider "vault" is listed more than once/],
  ])('rejects %j', (value, message) => {
    expect(() => parseProviderAudiences(value)).toThrow(AudienceConfigError);
    expect(() => parseProviderAudiences(value)).toThrow(message);
  });
});

describe('audiencesFor', () => {
  const perProvider = parseProviderAudiences('vault=vault,fake=');

  it('uses the provider list when configured', () => {
    expect(audiencesFor('vault', ['global'], perProvider)).toEqual(['vault']);
  });

  it('uses an empty provider list rather than the global one', () => {
    expect(audiencesFor('fake', ['global'], perProvider)).toEqual([]);
  });

  it('falls back to the global list', () => {
    expect(audiencesFor('aws', ['global'], perProvider)).toEqual(['global']);
    expect(audiencesFor('aws', [], new Map())).toEqual([]);
  });
});
