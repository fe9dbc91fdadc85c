{{- define "svclab.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "svclab.labels" -}}
app.kubernetes.io/name: svclab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: svclab
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "svclab.runnerSelector" -}}
app.kubernetes.io/name: svclab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: runner
{{- end -}}

{{/*
Refuse what would install a root-on-the-node pod per learner without the operator
saying so. Called from every template that depends on it, so `helm template` fails too.
*/}}
{{- define "svclab.validate" -}}
{{- $e := .Values.environment -}}
{{- if and (not $e.runtimeClassName) (not $e.acknowledgePrivilegedPods) -}}
{{- fail "\n\nsvclab: learner environment pods run a nested Kubernetes node (systemd, containerd, kubelet). Without a sandboxing runtime they must be privileged, which is root on the Kubernetes node they land on: a learner who escapes their cluster owns that node.\n\nSet ONE of:\n  --set environment.runtimeClassName=<a RuntimeClass your cluster has, e.g. sysbox-runc or kata>\n  --set environment.acknowledgePrivilegedPods=true  (then also pin them to a dedicated, tainted node pool: environment.nodeSelector and environment.tolerations)\n" -}}
{{- end -}}
{{- if gt (int .Values.workshop.reserve) (int .Values.workshop.capacity) -}}
{{- fail (printf "\n\nsvclab: workshop.reserve (%d) is more than workshop.capacity (%d): the reserve is environments kept ready for learners who have not joined yet, so it can be at most the capacity." (int .Values.workshop.reserve) (int .Values.workshop.capacity)) -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "\n\nsvclab: ingress.enabled is true but ingress.host is empty: learners need a name to reach. Set --set ingress.host=labs.example.org (and ingress.tlsSecretName for HTTPS)." -}}
{{- end -}}
{{- end -}}
