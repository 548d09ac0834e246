{{/*
Prefix of every object name. Upstream's names by default ("secrets-store-sync-controller-manager",
"secrets-store-sync-controller-create-update-policy", ...); set fullnameOverride to install a second,
sharded controller (--controller-name) next to the first without clashing cluster-scoped names.
*/}}
{{- define "secrets-store-sync-controller.fullname" -}}
{{- default "secrets-store-sync-controller" .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{- define "secrets-store-sync-controller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/*
The controller's ServiceAccount. The same helper feeds the ServiceAccount object, the RBAC subjects and the
match condition of every ValidatingAdmissionPolicy, so they cannot disagree (upstream's controllerName named the
policies' user while the ServiceAccount name stayed hard-coded). serviceAccount.name, then upstream's
controllerName, then <fullname>-manager.
*/}}
{{- define "secrets-store-sync-controller.serviceAccountName" -}}
{{- default (default (printf "%s-manager" (include "secrets-store-sync-controller.fullname" .)) .Values.controllerName) .Values.serviceAccount.name -}}
{{- end }}

{{- define "secrets-store-sync-controller.labels" -}}
helm.sh/chart: {{ include "secrets-store-sync-controller.chart" . }}
app.kubernetes.io/name: secrets-store-sync-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector of the Deployment (upstream's two labels, plus the release so two releases never overlap). */}}
{{- define "secrets-store-sync-controller.selectorLabels" -}}
control-plane: controller-manager
secrets-store.io/system: "true"
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Upstream's fixed names for the user-facing roles; prefixed only when fullnameOverride is set. */}}
{{- define "secrets-store-sync-controller.userRolePrefix" -}}
{{- if .Values.fullnameOverride }}{{ include "secrets-store-sync-controller.fullname" . }}-{{ end -}}
{{- end }}

{{/* The global token audiences: tokenRequestAudience[].audience, trimmed, empty ones dropped, deduplicated (JSON list). */}}
{{- define "secrets-store-sync-controller.globalAudiencesJson" -}}
{{- $l := list -}}
{{- range .Values.tokenRequestAudience -}}
{{- $a := trim (toString (.audience | default "")) -}}
{{- if $a }}{{ $l = append $l $a }}{{ end -}}
{{- end -}}
{{- $l | uniq | toJson -}}
{{- end }}

{{/* Every audience the controller may request: the global ones, then each provider's (providers sorted), deduplicated (JSON list). */}}
{{- define "secrets-store-sync-controller.policyAudiencesJson" -}}
{{- $l := include "secrets-store-sync-controller.globalAudiencesJson" . | fromJsonArray -}}
{{- range $provider, $audiences := .Values.providerTokenAudiences -}}
{{- range $audiences -}}
{{- $a := trim (toString .) -}}
{{- if $a }}{{ $l = append $l $a }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $l | uniq | toJson -}}
{{- end }}

{{/* --provider-token-audiences: "provider=aud1;aud2,provider2=" (providers sorted; an empty list means no token). */}}
{{- define "secrets-store-sync-controller.providerAudiencesFlag" -}}
{{- $entries := list -}}
{{- range $provider, $audiences := .Values.providerTokenAudiences -}}
{{- $l := list -}}
{{- range $audiences -}}
{{- $a := trim (toString .) -}}
{{- if $a }}{{ $l = append $l $a }}{{ end -}}
{{- end -}}
{{- $entries = append $entries (printf "%s=%s" $provider (join ";" ($l | uniq))) -}}
{{- end -}}
{{- join "," $entries -}}
{{- end }}

{{/* The Secret types the controller may write (JSON list); the ServiceAccount token type is refused. */}}
{{- define "secrets-store-sync-controller.allowedSecretTypesJson" -}}
{{- $l := list -}}
{{- range .Values.validatingAdmissionPolicies.allowedSecretTypes -}}
{{- $t := trim (toString .) -}}
{{- if eq $t "kubernetes.io/service-account-token" -}}
{{- fail "validatingAdmissionPolicies.allowedSecretTypes must not contain kubernetes.io/service-account-token: the controller may never write ServiceAccount token Secrets" -}}
{{- end -}}
{{- if $t }}{{ $l = append $l $t }}{{ end -}}
{{- end -}}
{{- $l | uniq | toJson -}}
{{- end }}

{{- define "secrets-store-sync-controller.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end }}

{{- define "secrets-store-sync-controller.hashKeySecretName" -}}
{{- default (printf "%s-hash-key" (include "secrets-store-sync-controller.fullname" .)) .Values.hashKey.existingSecret -}}
{{- end }}

{{- define "secrets-store-sync-controller.hashKeyEnabled" -}}
{{- if or .Values.hashKey.existingSecret .Values.hashKey.value .Values.hashKey.generate }}true{{ end -}}
{{- end }}
