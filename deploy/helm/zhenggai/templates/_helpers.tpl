{{- define "zhenggai.labels" -}}
app.kubernetes.io/name: zhenggai
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "zhenggai.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}

{{- /* The audit keys a rotation retired (a JSON list in the audit secret), so seals they
signed still verify; the key is absent until the first rotation (docs/operations.md). */}}
{{- define "zhenggai.auditRetiredKeys" -}}
- name: ZHENGGAI_AUDIT_RETIRED_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.audit }}
      key: audit_retired_keys
      optional: true
{{- end }}
