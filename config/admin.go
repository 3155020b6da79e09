package config

// The Kafka admin connection's section of Build: who manages the topics and
// how the deploy machine reaches the brokers. It lives apart from build.go
// because it reads two sections (kafkaAdmin and the older names under topics)
// and has keys and checks of its own.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// buildKafkaAdmin sets who manages the topics (topics.manager) and how the
// Kafka admin connection reaches the brokers: kafkaAdmin.access and
// kafkaAdmin.bootstrapServers (or their older names under topics), and the
// topic rails the provider enforces, topics.protect and topics.allowReplace.
// In ModeRender the manager is the Job (see ModeRender).
func buildKafkaAdmin(p *problems, s *Spec, tops *RawTopics, adm *RawKafkaAdmin, mode Mode) {
	configured := orStr(tops.Manager, DefaultTopicManager)
	if configured != TopicManagerProvider && configured != TopicManagerJob {
		p.add("topics.manager", configured, "unknown topic manager (allowed: provider, job)",
			"use provider (topics as Pulumi resources) or job (create-topics.sh inside the cluster)")
	}
	s.TopicManager = configured
	if mode == ModeRender {
		s.TopicManager = TopicManagerJob
	}
	keys := adminKeys{Access: AdminAccessKey, BootstrapServers: AdminBootstrapServersKey}
	access := adm.Access
	switch {
	case access == nil:
		if access = tops.Access; access != nil {
			keys.Access = OldAdminAccessKey
		}
	case tops.Access != nil && *tops.Access != *access:
		p.add(AdminAccessKey, *access, fmt.Sprintf("differs from %s = %q, its older name, which the stack also sets", OldAdminAccessKey, *tops.Access),
			fmt.Sprintf("keep one: remove %s (or make both the same)", OldAdminAccessKey))
	}
	servers := adm.BootstrapServers
	switch {
	case servers == nil:
		if servers = tops.BootstrapServers; servers != nil {
			keys.BootstrapServers = OldAdminBootstrapServersKey
		}
	case tops.BootstrapServers != nil && !slices.Equal(tops.BootstrapServers, servers):
		p.add(AdminBootstrapServersKey, servers, fmt.Sprintf("differs from %s = [%s], its older name, which the stack also sets",
			OldAdminBootstrapServersKey, strings.Join(tops.BootstrapServers, ", ")),
			fmt.Sprintf("keep one: remove %s (or make both the same)", OldAdminBootstrapServersKey))
	}
	s.KafkaAdmin = KafkaAdminSpec{
		BootstrapServers: append([]string(nil), servers...),
		ProtectTopics:    orBool(tops.Protect, DefaultProtectTopics),
		AllowReplace:     orBool(tops.AllowReplace, DefaultAllowReplace),
		Access:           orStr(access, DefaultAdminAccess),
	}
	// The access is checked against the manager the stack names, in every
	// mode: it is the stack file that must be consistent. Rendering replaces
	// the manager for that run only, so a stack that reaches its brokers
	// through the Kubernetes API (dev) still renders.
	checkAdminAccess(p, s, configured, keys)
	for i, addr := range s.KafkaAdmin.BootstrapServers {
		if _, port, ok := strings.Cut(addr, ":"); !ok || port == "" {
			p.add(fmt.Sprintf("%s[%d]", keys.BootstrapServers, i), addr, "is not host:port", "write it like kafka.example:9092")
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.add(fmt.Sprintf("%s[%d]", keys.BootstrapServers, i), addr, "has a port outside 1..65535", "write it like kafka.example:9092")
		}
	}
}

// Keys of the Kafka admin connection, and the older names under topics that
// stacks written before kafkaAdmin use and that are still read.
const (
	AdminAccessKey              = "kafkaAdmin.access"
	AdminBootstrapServersKey    = "kafkaAdmin.bootstrapServers"
	OldAdminAccessKey           = "topics.access"
	OldAdminBootstrapServersKey = "topics.bootstrapServers"
)

// adminKeys are the keys a stack wrote its admin connection under, so a
// message names the key the stack file has.
type adminKeys struct{ Access, BootstrapServers string }

// checkAdminAccess validates the admin connection's access: a known mode,
// used with the provider manager, and with bootstrap servers the tunnel can
// map to pods.
func checkAdminAccess(p *problems, s *Spec, manager string, keys adminKeys) {
	switch s.KafkaAdmin.Access {
	case AdminAccessDirect:
		return
	case AdminAccessKubernetes:
	default:
		p.add(keys.Access, s.KafkaAdmin.Access, "unknown access mode (allowed: direct, kubernetes)",
			"use direct (the deploy machine reaches every broker's address) or kubernetes (through the Kubernetes API, from outside the cluster)")
		return
	}
	if manager == TopicManagerJob {
		p.add(keys.Access, s.KafkaAdmin.Access, "applies only to topics.manager = provider (the job already runs inside the cluster)",
			fmt.Sprintf("remove %s or set topics.manager = provider", keys.Access))
	}
	for i, addr := range s.KafkaAdmin.BootstrapServers {
		host, _, _ := strings.Cut(addr, ":")
		if !rules.InClusterHost(host, s.Namespace) {
			p.add(fmt.Sprintf("%s[%d]", keys.BootstrapServers, i), addr,
				fmt.Sprintf("is not an in-cluster name in namespace %s, which %s = kubernetes needs to find the broker pod", s.Namespace, keys.Access),
				fmt.Sprintf("leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.%s.svc:9092", s.Namespace))
		}
	}
}
