package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// buildSecurity sets the security section. It needs the topic manager and
// monitoring already built: a secure stack depends on both (see below).
func buildSecurity(p *problems, s *Spec, sec *RawSecurity, configuredManager string) {
	s.Security = SecuritySpec{
		Mode:                    orStr(sec.Mode, DefaultSecurityMode),
		CertificateRotation:     orInt(sec.CertificateRotation, DefaultCertificateRotation),
		CertificateValidityDays: orInt(sec.CertificateValidityDays, DefaultCertificateValidityDays),
	}
	if !slices.Contains(SecurityModes, s.Security.Mode) {
		p.add("security.mode", s.Security.Mode, "unknown security mode (allowed: "+strings.Join(SecurityModes, ", ")+")",
			"use none (plaintext listeners, dev) or sasl-scram (authenticated, encrypted listeners, prod)")
	}
	if s.Security.CertificateRotation < 0 {
		p.add("security.certificateRotation", s.Security.CertificateRotation, "must be 0 or more (it counts rotations)",
			"leave it at its current value, or raise it by one to re-issue the certificates")
	}
	if d := s.Security.CertificateValidityDays; d < MinCertificateValidityDays || d > MaxCertificateValidityDays {
		p.add("security.certificateValidityDays", d,
			fmt.Sprintf("must be between %d and %d days", MinCertificateValidityDays, MaxCertificateValidityDays),
			fmt.Sprintf("use %d (a year) and raise security.certificateRotation before the certificates expire", DefaultCertificateValidityDays))
	}
	if !s.Secure() {
		return
	}
	// The readiness probe reads the broker state from the JMX exporter: with
	// TLS on every listener, a shell probe can no longer ask the client port.
	if !s.Monitoring.Enabled {
		p.add("security.mode", s.Security.Mode,
			"needs monitoring.enabled = true: the readiness probe reads the broker state from the JMX exporter, and a shell probe cannot speak TLS to the client port",
			"set monitoring.enabled = true, or security.mode = none")
	}
	// The users and ACLs are umbrellakafka resources; the Job only creates topics.
	if configuredManager == TopicManagerJob {
		p.add("security.mode", s.Security.Mode,
			"needs topics.manager = provider: the service users and their ACLs are umbrellakafka resources, which the topic Job cannot create",
			"set topics.manager = provider, or security.mode = none")
	}
}

// buildServices merges config.Services (and, with monitoring, the lag
// exporter's LagExporterService) with the stack's `services` and validates
// the result against the topics; it needs s.Topics and s.Monitoring.
func buildServices(p *problems, s *Spec, raw map[string]RawService) {
	for _, name := range sortedServiceNames(raw) {
		// The name is the Kafka user's and names its credentials Secret.
		if !rules.DNSLabel(name) {
			p.add("services."+name, name, "is not a service name: it names the Kafka user and its credentials Secret, so it must be a DNS label (lower-case letters, digits and '-', at most 63 characters)",
				"rename the service, e.g. "+strings.ToLower(strings.NewReplacer("_", "-", ".", "-", " ", "-").Replace(name)))
		}
		if ns := raw[name].Namespace; ns != nil && *ns != "" && !rules.DNSLabel(*ns) {
			p.add("services."+name+".namespace", *ns, "is not a namespace name (DNS label, at most 63 characters)",
				"name the namespace the service runs in, e.g. umbrella-ingestion")
		}
	}
	base := Services
	if s.Monitoring.Enabled {
		if _, ok := raw[LagExporterServiceName]; ok {
			p.add("services."+LagExporterServiceName, LagExporterServiceName,
				"is the lag exporter's principal, which the program manages with monitoring (Describe on every group and topic, nothing else)",
				"give your service another name")
		}
		base = append(slices.Clone(Services), LagExporterService(s.Namespace))
	}
	s.Services = mergeServices(base, raw)
	ids := make([]string, 0, len(s.Topics))
	for _, t := range s.Topics {
		ids = append(ids, t.ID)
	}
	sort.Strings(ids)
	for _, msg := range ValidateServices(s.Services, ids) {
		p.addMessage(msg)
	}
}

// mergeServices returns base with the stack's changes applied (each field a
// change sets replaces the service's; a new name adds a service), sorted by
// Name. base is not modified.
func mergeServices(base []Service, changes map[string]RawService) []Service {
	out := make([]Service, 0, len(base)+len(changes))
	index := map[string]int{}
	for _, svc := range base {
		svc.Produces = slices.Clone(svc.Produces)
		svc.Consumes = slices.Clone(svc.Consumes)
		index[svc.Name] = len(out)
		out = append(out, svc)
	}
	for _, name := range sortedServiceNames(changes) {
		i, ok := index[name]
		if !ok {
			i = len(out)
			out = append(out, Service{Name: name})
		}
		applyService(&out[i], changes[name])
	}
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// applyService sets each field the change sets.
func applyService(svc *Service, c RawService) {
	svc.Namespace = orStr(c.Namespace, svc.Namespace)
	if c.Produces != nil {
		svc.Produces = slices.Clone(c.Produces)
	}
	if c.Consumes != nil {
		svc.Consumes = slices.Clone(c.Consumes)
	}
	svc.Group = orStr(c.Group, svc.Group)
	svc.GroupPrefix = orBool(c.GroupPrefix, svc.GroupPrefix)
}

func sortedServiceNames(m map[string]RawService) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
