package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	kafkafiles "github.com/umbrella-platform/umbrella-streaming/infrastructure/kafka"
)

// TopicConfigLines returns a topic's configs as sorted key=value strings.
func TopicConfigLines(t config.TopicSpec) []string {
	keys := make([]string, 0, len(t.Config))
	for k := range t.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + t.Config[k]
	}
	return out
}

// TopicsFile renders the resolved topic list in create-topics.sh's TOPICS_FILE
// format: "<name> <partitions> <replication-factor> [key=value ...]", sorted by name.
func TopicsFile(s *config.Spec) string {
	var b strings.Builder
	b.WriteString("# name partitions replication-factor [config ...] (generated from stack config)\n")
	for _, t := range s.Topics {
		fields := append([]string{t.Name, fmt.Sprint(t.Partitions), fmt.Sprint(t.ReplicationFactor)}, TopicConfigLines(t)...)
		b.WriteString(strings.Join(fields, " ") + "\n")
	}
	return b.String()
}

// TopicJobNameFor returns the Job's name, suffixed with a hash of the topic list: a
// changed list runs a new Job (a Job's pod template cannot change in place).
func TopicJobNameFor(s *config.Spec) string {
	sum := sha256.Sum256([]byte(TopicsFile(s) + kafkafiles.CreateTopicsScript))
	return TopicJobName + "-" + hex.EncodeToString(sum[:])[:8]
}

// BuildTopicScripts returns the ConfigMap holding create-topics.sh and the resolved
// topic list for the Job, or nil unless topics.manager is job.
func BuildTopicScripts(s *config.Spec) *corev1.ConfigMapArgs {
	if s.TopicManager != config.TopicManagerJob {
		return nil
	}
	return &corev1.ConfigMapArgs{
		Metadata: meta(s, TopicScriptsName, "topic-init"),
		Data: pulumi.StringMap{
			"create-topics.sh": pulumi.String(kafkafiles.CreateTopicsScript),
			"topics.txt":       pulumi.String(TopicsFile(s)),
		},
	}
}

// BuildTopicJob returns the one-shot topic Job (seed job-create-topics.yaml), or nil
// unless topics.manager is job. Its pod carries the access label so the broker
// NetworkPolicy lets it in.
func BuildTopicJob(s *config.Spec, image pulumi.StringInput) *batchv1.JobArgs {
	if s.TopicManager != config.TopicManagerJob {
		return nil
	}
	labels := CommonLabels(s, "topic-init")
	delete(labels, LabelName)
	delete(labels, LabelInstance)
	labels[s.NetworkPolicy.AccessLabelKey] = s.NetworkPolicy.AccessLabelValue
	return &batchv1.JobArgs{
		Metadata: meta(s, TopicJobNameFor(s), "topic-init"),
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(10),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: strMap(labels)},
				Spec: &corev1.PodSpecArgs{
					RestartPolicy:                pulumi.String("OnFailure"),
					EnableServiceLinks:           pulumi.Bool(false),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              PodSecurityContext(),
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:            pulumi.String("create-topics"),
						Image:           image,
						ImagePullPolicy: pulumi.String(s.Image.PullPolicy),
						Command:         pulumi.StringArray{pulumi.String("/bin/bash"), pulumi.String("/scripts/create-topics.sh")},
						Env: corev1.EnvVarArray{
							&corev1.EnvVarArgs{Name: pulumi.String("KAFKA_BOOTSTRAP"), Value: pulumi.String(BootstrapAddress(s.Namespace))},
							&corev1.EnvVarArgs{Name: pulumi.String("LOG_DIR"), Value: pulumi.String(KafkaLogsPath)},
							&corev1.EnvVarArgs{Name: pulumi.String("TOPICS_FILE"), Value: pulumi.String("/scripts/topics.txt")},
						},
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("256Mi"), "ephemeral-storage": pulumi.String("64Mi")},
							Limits:   pulumi.StringMap{"cpu": pulumi.String("500m"), "memory": pulumi.String("512Mi"), "ephemeral-storage": pulumi.String("256Mi")},
						},
						SecurityContext: ContainerSecurityContext(),
						VolumeMounts: corev1.VolumeMountArray{
							&corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String("/scripts"), ReadOnly: pulumi.Bool(true)},
							&corev1.VolumeMountArgs{Name: pulumi.String(KafkaLogsVolumeName), MountPath: pulumi.String(KafkaLogsPath)},
							&corev1.VolumeMountArgs{Name: pulumi.String(TmpVolumeName), MountPath: pulumi.String(TmpPath)},
						},
					}},
					Volumes: corev1.VolumeArray{
						&corev1.VolumeArgs{Name: pulumi.String("scripts"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(TopicScriptsName)}},
						emptyDir(KafkaLogsVolumeName, KafkaLogsSizeLimit),
						emptyDir(TmpVolumeName, TmpSizeLimit),
					},
				},
			},
		},
	}
}
