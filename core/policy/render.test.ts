import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { celList, celString, emitPolicies, generatePolicyTemplate, GENERATED_HEADER, policyObjects, renderPoliciesYaml, type PolicyConfig } from './index.js';

const config: PolicyConfig = {
  controllerNamespace: 'ssc',
  serviceAccountName: 'manager',
  allowedSecretTypes: ['Opaque'],
  tokenAudiences: ['vault', 'a "quoted" one'],
  requireServiceAccountOptIn: { annotation: 'example.com/tokens' },
};

describe('CEL literals', () => {
  test('are Go-JSON strings: valid CEL, identical to what Helm\'s toJson writes', () => {
    expect(celString('plain')).toBe('"plain"');
    expect(celString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(celString('<&>')).toBe('"\\u003c\\u0026\\u003e"');
    expect(celString('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(celString('ünï')).toBe('"ünï"');
    expect(celList([])).toBe('[]');
    expect(celList(['a', 'b'])).toBe('["a","b"]');
  });
});

describe('renderPoliciesYaml', () => {
  test('parses back to exactly the emitted objects, policy then binding', () => {
    const yaml = renderPoliciesYaml(config);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS());
    expect(docs).toEqual(JSON.parse(JSON.stringify(policyObjects(emitPolicies(config)))));
  });

  test('writes CEL as literal blocks, so expressions appear verbatim', () => {
    const yaml = renderPoliciesYaml(config);
    expect(yaml).toContain('    expression: |-\n      request.userInfo.username == "system:serviceaccount:ssc:manager"\n');
    expect(yaml).toContain('variables.allowedAudiences)');
    expect(yaml).not.toMatch(/expression: ["']/);
    expect(yaml.startsWith('---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n')).toBe(true);
  });

  test('accepts already emitted policies', () => {
    expect(renderPoliciesYaml(emitPolicies(config))).toBe(renderPoliciesYaml(config));
  });
});

describe('the chart\'s templates/policies.yaml', () => {
  test('is generated from the emitter and up to date (run `npm run chart:policies` after changing core/policy)', () => {
    const committed = readFileSync(new URL('../../charts/secrets-store-sync-controller/templates/policies.yaml', import.meta.url), 'utf8');
    expect(committed).toBe(generatePolicyTemplate());
  });

  test('has no sentinel left and only Helm expressions where values come in', () => {
    const t = generatePolicyTemplate();
    expect(t.startsWith(GENERATED_HEADER)).toBe(true);
    expect(t).not.toMatch(/ssc-sentinel/);
    const expressions = new Set(t.slice(GENERATED_HEADER.length).match(/\{\{[^}]*\}\}/g));
    expect([...expressions].sort()).toEqual([
      '{{ .Values.validatingAdmissionPolicies.requireServiceAccountOptIn.key | toString | toJson }}',
      '{{ .Values.validatingAdmissionPolicies.requireServiceAccountOptIn.value | toString | toJson }}',
      '{{ include "secrets-store-sync-controller.allowedSecretTypesJson" . }}',
      '{{ include "secrets-store-sync-controller.fullname" . }}',
      '{{ include "secrets-store-sync-controller.policyAudiencesJson" . }}',
      '{{ printf "system:serviceaccount:%s:%s" .Release.Namespace (include "secrets-store-sync-controller.serviceAccountName" .) | toJson }}',
      '{{- else }}',
      '{{- end }}',
      '{{- if .Values.validatingAdmissionPolicies.applyPolicies }}',
      '{{- if and .Values.validatingAdmissionPolicies.requireServiceAccountOptIn .Values.validatingAdmissionPolicies.requireServiceAccountOptIn.enabled }}',
      '{{- if eq (.Values.validatingAdmissionPolicies.requireServiceAccountOptIn.kind | default "label") "label" }}',
      '{{- include "secrets-store-sync-controller.labels" . | nindent 4 }}',
    ].sort());
  });
});
