{{- define "zhenggai.labels" -}}
app.kubernetes.io/name: zhenggai
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "zhenggai.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}
