package provider

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
)

func access() KubernetesAccess {
	return KubernetesAccess{Namespace: "umbrella-streaming", StatefulSet: "kafka", HeadlessService: "kafka-headless",
		BootstrapService: ptr("kafka")}
}

func ptr[T any](v T) *T { return &v }

// TestKubernetesAccessTarget guards the hand-over to the tunnel: every field
// arrives, and unset optional ones become "".
func TestKubernetesAccessTarget(t *testing.T) {
	a := access()
	a.Kubeconfig, a.Context = ptr("/etc/kubeconfig"), ptr("ci")
	assert.Equal(t, kubetunnel.Target{Kubeconfig: "/etc/kubeconfig", Context: "ci", Namespace: "umbrella-streaming",
		StatefulSet: "kafka", HeadlessService: "kafka-headless", BootstrapService: "kafka"}, a.target())
	assert.Equal(t, kubetunnel.Target{Namespace: "ns", StatefulSet: "s", HeadlessService: "h"},
		(&KubernetesAccess{Namespace: "ns", StatefulSet: "s", HeadlessService: "h"}).target())
}

func TestKubernetesOptionValidation(t *testing.T) {
	bad := access()
	bad.Namespace = "Umbrella_Streaming"
	cfg := &Config{BootstrapServers: []string{"kafka:9092"}, Kubernetes: &bad}
	require.EqualError(t, cfg.Configure(context.Background()),
		`umbrellakafka:kubernetes.namespace = "Umbrella_Streaming" is not a Kubernetes name (a DNS label: lower-case `+
			"letters, digits and '-', at most 63 characters): set it to the name as `kubectl get` shows it, e.g. umbrella-streaming")
	bad = access()
	bad.StatefulSet = ""
	cfg.Kubernetes = &bad
	require.EqualError(t, cfg.Configure(context.Background()),
		`umbrellakafka:kubernetes.statefulSet = "" is not a Kubernetes name (a DNS label: lower-case `+
			"letters, digits and '-', at most 63 characters): set it to the name as `kubectl get` shows it, e.g. kafka")

	// Configure contacts nothing: a kubeconfig that does not exist is only read at the first dial.
	good := access()
	good.Kubeconfig = ptr("/nonexistent/kubeconfig")
	cfg.Kubernetes = &good
	require.NoError(t, cfg.Configure(context.Background()))
	assert.Nil(t, cfg.conn.cl)
}
