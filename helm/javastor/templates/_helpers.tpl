{{/*
Names, labels and images shared by all templates.
*/}}

{{/* Chart name, overridable. */}}
{{- define "javastor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every resource name: "<release>-javastor", or the release name if it already says javastor. */}}
{{- define "javastor.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's resources: (dict "root" $ "component" "core-agent"). Room is left for pod suffixes. */}}
{{- define "javastor.componentName" -}}
{{- printf "%s-%s" (include "javastor.fullname" .root | trunc 40 | trimSuffix "-") .component | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "javastor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "javastor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "javastor.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of a component's resources. */}}
{{- define "javastor.labels" -}}
{{ include "javastor.selectorLabels" . }}
helm.sh/chart: {{ include "javastor.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: javastor
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A javastor/* image: (dict "root" $ "image" .Values.coreAgent.image) -> [registry/]repository:tag. */}}
{{- define "javastor.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "javastor.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Preferred anti-affinity spreading a component's replicas across nodes, unless affinity is set. */}}
{{- define "javastor.affinity" -}}
{{- if .affinity -}}
{{ toYaml .affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "javastor.selectorLabels" . | nindent 12 }}
{{- end -}}
{{- end -}}

{{/* Service DNS names and endpoints the components use to find each other. */}}
{{- define "javastor.coreAgent.endpoint" -}}
{{- printf "%s.%s.svc:%d" (include "javastor.componentName" (dict "root" . "component" "core-agent")) .Release.Namespace (int .Values.coreAgent.grpcPort) -}}
{{- end -}}

{{- define "javastor.restGateway.url" -}}
{{- printf "%s://%s.%s.svc:%d" (ternary "https" "http" .Values.tls.enabled) (include "javastor.componentName" (dict "root" . "component" "rest-gateway")) .Release.Namespace (int .Values.restGateway.service.port) -}}
{{- end -}}

{{/* etcd client URLs: one per bundled member (jetcd balances and fails over between them), or the external list. */}}
{{- define "javastor.etcd.endpoints" -}}
{{- if .Values.etcd.enabled -}}
{{- $name := include "javastor.componentName" (dict "root" . "component" "etcd") -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.etcd.replicas) -}}
{{- $urls = append $urls (printf "%s://%s-%d.%s-headless.%s.svc:%d" (ternary "https" "http" $.Values.tls.enabled) $name $i $name $.Release.Namespace (int $.Values.etcd.clientPort)) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- $endpoints := required "etcd.external.endpoints is required when etcd.enabled is false" (join "," .Values.etcd.external.endpoints) -}}
{{- if .Values.tls.enabled -}}
{{- range .Values.etcd.external.endpoints -}}
{{- if not (hasPrefix "https://" .) -}}
{{- fail (printf "etcd.external.endpoints: %s is not https://; with tls.enabled the core agent reaches etcd with mTLS only (that etcd must trust the cluster CA in the Secret <release>-tls-ca), or set tls.enabled=false" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $endpoints -}}
{{- end -}}
{{- end -}}

{{/* JDBC URL of the event history, or empty for the embedded H2. */}}
{{- define "javastor.postgresql.jdbcUrl" -}}
{{- if .Values.postgresql.enabled -}}
{{- printf "jdbc:postgresql://%s.%s.svc:%d/%s" (include "javastor.componentName" (dict "root" . "component" "postgresql")) .Release.Namespace (int .Values.postgresql.port) .Values.postgresql.auth.database -}}
{{- else -}}
{{- .Values.postgresql.external.jdbcUrl -}}
{{- end -}}
{{- end -}}

{{/* Secret holding the database credentials, with its key names: dict name/usernameKey/passwordKey. */}}
{{- define "javastor.postgresql.secret" -}}
{{- if .Values.postgresql.enabled -}}
name: {{ .Values.postgresql.auth.existingSecret | default (include "javastor.componentName" (dict "root" . "component" "postgresql")) }}
usernameKey: username
passwordKey: password
{{- else -}}
name: {{ required "postgresql.external.existingSecret is required with postgresql.external.jdbcUrl" .Values.postgresql.external.existingSecret }}
usernameKey: {{ .Values.postgresql.external.usernameKey }}
passwordKey: {{ .Values.postgresql.external.passwordKey }}
{{- end -}}
{{- end -}}

{{/* Environment every Javastor JVM gets: JVM options and the pod's identity (used by the application.yaml placeholders). */}}
{{- define "javastor.jvmEnv" -}}
- name: JAVA_TOOL_OPTIONS
  value: {{ .javaOpts | quote }}
- name: SPRING_CONFIG_ADDITIONAL_LOCATION
  value: "optional:file:/etc/javastor/"
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- with .extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Actuator probes of a Spring Boot container on the named port. startupProbe covers JVM start so liveness can stay strict. */}}
{{- define "javastor.actuatorProbes" -}}
{{- $port := . -}}
{{- $scheme := "" -}}
{{- if kindIs "map" . }}{{ $port = .port }}{{ $scheme = .scheme }}{{ end -}}
startupProbe:
  httpGet:
    path: /actuator/health/liveness
    port: {{ $port }}
    {{- with $scheme }}
    scheme: {{ . }}
    {{- end }}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /actuator/health/liveness
    port: {{ $port }}
    {{- with $scheme }}
    scheme: {{ . }}
    {{- end }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /actuator/health/readiness
    port: {{ $port }}
    {{- with $scheme }}
    scheme: {{ . }}
    {{- end }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* The cluster CA's certificate (cluster-tls.yaml) for clients of the REST gateway's HTTPS: the pod's volume. */}}
{{- define "javastor.clusterCa.volume" -}}
{{- if .Values.tls.enabled }}
- name: cluster-ca
  configMap:
    name: {{ include "javastor.componentName" (dict "root" . "component" "cluster-ca") }}
{{- end }}
{{- end -}}

{{- define "javastor.clusterCa.mount" -}}
{{- if .Values.tls.enabled }}
- name: cluster-ca
  mountPath: /etc/javastor-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Container security context of the unprivileged Java containers. */}}
{{- define "javastor.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Checksum annotation: pods restart when their configuration changes. */}}
{{- define "javastor.configChecksum" -}}
checksum/config: {{ include (print .root.Template.BasePath "/" .file) .root | sha256sum }}
{{- end -}}

{{/* mTLS files of a component (cluster-tls.yaml), mounted at /etc/javastor-tls: the pod's volume. */}}
{{- define "javastor.tls.volume" -}}
{{- if .root.Values.tls.enabled }}
- name: cluster-tls
  secret:
    secretName: {{ include "javastor.componentName" (dict "root" .root "component" (printf "%s-tls" .component)) }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{/* The container's mount of javastor.tls.volume. */}}
{{- define "javastor.tls.mount" -}}
{{- if .Values.tls.enabled }}
- name: cluster-tls
  mountPath: /etc/javastor-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* javastor.tls.* of a Java component's application.yaml (under javastor:). */}}
{{- define "javastor.tls.config" -}}
tls:
{{- if .Values.tls.enabled }}
  ca-file: /etc/javastor-tls/ca.crt
  cert-file: /etc/javastor-tls/tls.crt
  key-file: /etc/javastor-tls/tls.key
{{- else }}
  # tls.enabled=false in the values: plaintext gRPC and etcd (only on a network nothing else reaches).
  enabled: false
{{- end }}
{{- end -}}

{{/*
Spring Cloud Kubernetes: the document a component's application.yaml ends with (before extraConfig). Active on the
Kubernetes cloud platform only (in a pod; never under ./javastor up or in tests), it imports the component's settings
ConfigMap (<component>-settings) and its optional Secret (<component>-secrets, one key per secret setting) from the
API server, one read each by name. With reload, a change to the settings ConfigMap is applied live (Spring Cloud's
refresh: @ConfigurationProperties rebound, log levels reset). dict: root, component, reload.
*/}}
{{- define "javastor.kubernetesSources" -}}
{{- $name := include "javastor.componentName" (dict "root" .root "component" .component) -}}
---
spring:
  config:
    activate:
      on-cloud-platform: kubernetes
    import: "kubernetes:"
  cloud:
    kubernetes:
      client:
        namespace: {{ .root.Release.Namespace | quote }}
      config:
        read-type: SINGLE
        sources:
          - name: {{ $name }}-settings
      secrets:
        enabled: true
        read-type: SINGLE
        sources:
          - name: {{ $name }}-secrets
      reload:
        enabled: {{ .reload }}
        {{- if .reload }}
        strategy: refresh
        mode: event
        monitoring-config-maps: true
        # A changed Secret is not applied live (secret settings are read at start-up): restart the pods.
        monitoring-secrets: false
        namespaces:
          - {{ .root.Release.Namespace | quote }}
        {{- end }}
{{- end -}}

{{/* RBAC of javastor.kubernetesSources, for a component's ServiceAccount: its ConfigMaps (watched for reload) and its one Secret. */}}
{{- define "javastor.kubernetesSources.rbac" -}}
{{- $name := include "javastor.componentName" (dict "root" .root "component" .component) -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}-settings
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "javastor.labels" $ctx | nindent 4 }}
rules:
  # list/watch: the reload's informer watches the namespace's ConfigMaps.
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "list", "watch"]
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: [{{ printf "%s-secrets" $name | quote }}]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}-settings
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "javastor.labels" $ctx | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}-settings
subjects:
  - kind: ServiceAccount
    name: {{ .serviceAccount | default $name }}
    namespace: {{ .root.Release.Namespace }}
{{- end -}}

{{/* A component's settings ConfigMap, read through the API (javastor.kubernetesSources). dict: root, component, settings. */}}
{{- define "javastor.settingsConfigMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "javastor.componentName" (dict "root" .root "component" .component) }}-settings
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "javastor.labels" (dict "root" .root "component" .component) | nindent 4 }}
data:
  application.yaml: |
    {{- toYaml .settings | nindent 4 }}
{{- end -}}
