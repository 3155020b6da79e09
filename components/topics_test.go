package components

import (
	"testing"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func TestTopicsFileAndJob(t *testing.T) {
	s := spec(t, 1, 1, func(r *config.Raw) {
		r.Topics = &config.RawTopics{Manager: ptr("job")}
		r.TopicOverrides = map[string]config.RawTopic{"dead-letter": {RetentionHours: ptr(-1), CleanupPolicy: ptr("compact")}}
	})
	assert.Equal(t, `# name partitions replication-factor [config ...] (generated from stack config)
alerts 1 1
dead-letter 1 1 cleanup.policy=compact retention.ms=-1
normalized-messages 1 1
normalized-messages-dlq 1 1
parsed-messages 1 1
processing-results 1 1
raw-messages 1 1
`, TopicsFile(s))
	job := BuildTopicJob(s, pulumi.String("apache/kafka:4.1.1"))
	require.NotNil(t, job)
	name := string(job.Metadata.(*metav1.ObjectMetaArgs).Name.(pulumi.String))
	assert.Regexp(t, `^kafka-create-topics-[0-9a-f]{8}$`, name)
	other := spec(t, 1, 1, func(r *config.Raw) { r.Topics = &config.RawTopics{Manager: ptr("job")} })
	assert.NotEqual(t, name, TopicJobNameFor(other), "a changed topic list runs a new Job")
	assert.Nil(t, BuildTopicJob(spec(t, 1, 1), pulumi.String("x")), "provider manager: no Job")
	assert.Nil(t, BuildTopicScripts(spec(t, 1, 1)))
}
