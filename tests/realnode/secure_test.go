//go:build realnode

package realnode

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// The prod stack runs with security.mode sasl-scram (issue 16): Kafka's tools
// run inside a broker pod reach the INTERNAL listener with the broker's own
// certificate (admin.properties), and the test's clients are platform
// services, connecting with the credentials Secret the program wrote into
// their namespace, mounted as a service would mount it (kafkaStack.secure).

// loadgenClient says who a kafka-loadgen pod is: the namespace it runs in and,
// with security on, the service whose credentials Secret it mounts.
type loadgenClient struct {
	namespace, service string
}

// plainClient is the plaintext stacks' client: the access-labelled namespace.
var plainClient = loadgenClient{namespace: clientNS}

// credentialsMount is where a loadgen pod mounts its service's Secret.
const credentialsMount = "/etc/kafka-credentials"

// podSpec is the loadgen pod's spec for this client.
func (c loadgenClient) podSpec(args []string) map[string]any {
	container := map[string]any{"name": "loadgen", "image": loadgenImage(), "imagePullPolicy": "Always", "args": args}
	// The image has no shell and its root is not writable: a run's stop file
	// (--stop-file, kafka-loadgen stop) lives in an emptyDir.
	mounts := []any{map[string]any{"name": "control", "mountPath": loadgenControlDir}}
	volumes := []any{map[string]any{"name": "control", "emptyDir": map[string]any{}}}
	if c.service != "" {
		container["args"] = append(append([]string{}, args...), "--credentials", credentialsMount)
		mounts = append(mounts, map[string]any{"name": "kafka-credentials", "mountPath": credentialsMount, "readOnly": true})
		volumes = append(volumes, map[string]any{"name": "kafka-credentials",
			"secret": map[string]any{"secretName": components.ServiceSecretName(c.service)}})
	}
	container["volumeMounts"] = mounts
	return map[string]any{"restartPolicy": "Never", "enableServiceLinks": false, "containers": []any{container}, "volumes": volumes}
}

// createServiceNamespaces creates every service's namespace before the stack
// goes up: the program writes each service's credentials Secret there, into
// namespaces it does not own.
func createServiceNamespaces(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range config.Services {
		if seen[s.Namespace] {
			continue
		}
		seen[s.Namespace] = true
		if _, err := kubectl("get", "namespace", s.Namespace); err == nil {
			continue
		}
		_, err := kubectl("create", "namespace", s.Namespace)
		require.NoError(t, err)
	}
}

// servedCertificate is the serial and subject of the certificate a broker
// serves on its client listener, read from the test host through the pod IP.
func servedCertificate(t *testing.T, ip string) (serial, subject string) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(ip, fmt.Sprint(components.ClientPort)),
		&tls.Config{InsecureSkipVerify: true}) // only reading which certificate is served
	require.NoError(t, err)
	defer conn.Close()
	cert := conn.ConnectionState().PeerCertificates[0]
	return cert.SerialNumber.String(), cert.Subject.CommonName
}

// servedSerials maps each of the n broker pods to the serial of the
// certificate it serves. Every one must be there and serve one (issue 24
// item 3: an empty map compared equal to anything).
func servedSerials(t *testing.T, n int) map[string]string {
	t.Helper()
	pods, err := brokerPods()
	require.NoError(t, err)
	out := map[string]string{}
	for i := 0; i < n; i++ {
		name := components.PodName(i)
		p, ok := pods[name]
		require.True(t, ok && p.ip != "", "broker pod %s with an IP among %v", name, pods)
		serial, _ := servedCertificate(t, p.ip)
		require.NotEmpty(t, serial, name)
		out[name] = serial
	}
	require.Len(t, out, n)
	return out
}

// securedListeners checks, on the running prod stack, that every service has
// its credentials Secret, that services get what the inventory grants and
// nothing else, and that plaintext is refused.
func securedListeners(t *testing.T, k kafkaStack) {
	for _, s := range config.Services {
		keys, err := kubectl("-n", s.Namespace, "get", "secret", components.ServiceSecretName(s.Name), "-o", "jsonpath={.data}")
		require.NoError(t, err, "credentials Secret of %s", s.Name)
		for _, k := range []string{components.SecretKeyUsername, components.SecretKeyPassword, components.SecretKeyCA, components.SecretKeyClientProperties} {
			assert.Contains(t, keys, `"`+k+`"`, "Secret %s/%s", s.Namespace, components.ServiceSecretName(s.Name))
		}
	}
	props := k.exec(t, "kafka-0", "cat "+components.RunMountPath+"/server.properties")
	assert.Contains(t, props, "listener.security.protocol.map=")
	assert.NotContains(t, lineOf(props, "listener.security.protocol.map="), "PLAINTEXT", "no plaintext listener")
	assert.Contains(t, props, "allow.everyone.if.no.acl.found=false")

	// The connectors write raw-messages and the email processor reads it back,
	// each with the credentials from its own Secret.
	wrote := runLoadgen(t, k.client("connectors"), "allowed-connectors", "produce",
		"--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", "allowed", "--count", "50")
	require.Equal(t, "Succeeded", wrote.phase, "connectors writing raw-messages:\n%s", wrote.logs)
	summary := lastJSONLine(wrote.logs)
	read := runLoadgen(t, k.client("email-processor"), "allowed-email-processor", "verify",
		"--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", "allowed", "--acked-from", summary)
	assert.Equal(t, "Succeeded", read.phase, "email-processor reading raw-messages:\n%s", read.logs)
	// The email processor may not write raw-messages; the connectors may not read it.
	denied := runLoadgen(t, k.client("email-processor"), "denied-email-processor", "produce",
		"--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", "denied", "--count", "10")
	assert.Equal(t, "Failed", denied.phase)
	assert.Contains(t, denied.logs, "TOPIC_AUTHORIZATION_FAILED", "email-processor writing raw-messages")
	noRead := runLoadgen(t, k.client("connectors"), "denied-connectors", "verify",
		"--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", "allowed", "--acked-from", summary)
	assert.Equal(t, "Failed", noRead.phase)
	assert.Contains(t, noRead.logs, "TOPIC_AUTHORIZATION_FAILED", "connectors reading raw-messages")
	// No credentials at all: plaintext to the SASL_SSL listener.
	plain := runLoadgen(t, plainClient, "plaintext-refused", "produce",
		"--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", "plain", "--count", "5", "--flush-timeout", "20s")
	assert.Equal(t, "Failed", plain.phase, "a plaintext client:\n%s", plain.logs)
	assert.NotContains(t, plain.logs, `"acked":5`)
	pods, err := brokerPods()
	require.NoError(t, err)
	serial, subject := servedCertificate(t, pods["kafka-0"].ip)
	t.Logf("kafka-0 serves certificate %s (CN %s); plaintext client: %s", serial, subject, lastLine(plain.logs))
	assert.Equal(t, components.BrokerPrincipalName, subject)
}

// loadgenRun is a finished loadgen pod.
type loadgenRun struct{ phase, logs string }

// runLoadgen runs a loadgen pod to its end and returns its phase and logs,
// whether it succeeded or not.
func runLoadgen(t *testing.T, c loadgenClient, name string, args ...string) loadgenRun {
	t.Helper()
	applyLoadgenPodAs(t, c, name, args...)
	var phase string
	waitFor(t, 3*time.Minute, "pod "+name+" to finish", func() bool {
		phase, _ = kubectl("-n", c.namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed"
	})
	logs, _ := kubectl("-n", c.namespace, "logs", name)
	return loadgenRun{phase, logs}
}

func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[len(lines)-1]
}

// applyLoadgenPodAs starts a loadgen pod as client c.
func applyLoadgenPodAs(t *testing.T, c loadgenClient, name string, args ...string) {
	t.Helper()
	if c.namespace == clientNS {
		ensureClientNamespace(t)
	}
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": c.namespace},
		"spec":     c.podSpec(args),
	}
	body, err := json.Marshal(pod)
	require.NoError(t, err)
	_, err = kubectlIn(string(body), "apply", "-f", "-")
	require.NoError(t, err)
}
