package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shipped stacks: prod runs the secure listeners, dev stays plaintext,
// and both carry the platform services (only a secure stack creates users).
func TestStackFilesSecurity(t *testing.T) {
	dev, err := Load("dev", stackValues(t, "dev"))
	require.NoError(t, err)
	assert.False(t, dev.Secure())
	assert.Equal(t, SecuritySpec{Mode: SecurityNone, CertificateRotation: 0, CertificateValidityDays: 365}, dev.Security)

	prod, err := Load("prod", stackValues(t, "prod"))
	require.NoError(t, err)
	assert.True(t, prod.Secure())
	assert.Equal(t, SecuritySpec{Mode: SecurityScram, CertificateRotation: 0, CertificateValidityDays: 365}, prod.Security)
	sorted := append(slices.Clone(Services), LagExporterService("umbrella-streaming"))
	slices.SortFunc(sorted, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range []*Spec{dev, prod} {
		assert.Equal(t, sorted, s.Services, "%s: no stack changes, so the services are config.Services and (monitoring on) the lag exporter, sorted", s.Stack)
	}
}

// A stack's services change config.Services field by field: a list given
// replaces the service's list, fields not given are kept, a new name adds a
// service, and the result is sorted by name. config.Services is untouched.
func TestStackServicesMergeOverTheDefaults(t *testing.T) {
	before := slices.Clone(Services)
	r := validDev()
	r.Services = map[string]RawService{
		"email-processor": {Consumes: []string{"raw-messages", "alerts"}},
		"ops":             {GroupPrefix: bp(false), Group: sp("ops")},
		"audit":           {Namespace: sp("umbrella-ui"), Consumes: []string{"alerts"}, Group: sp("audit")},
	}
	s, err := Build("dev", r)
	require.NoError(t, err)
	byName := map[string]Service{}
	var names []string
	for _, svc := range s.Services {
		byName[svc.Name] = svc
		names = append(names, svc.Name)
	}
	assert.True(t, slices.IsSorted(names), "sorted by name: %v", names)
	assert.Len(t, s.Services, len(Services)+2, "the defaults, the lag exporter and audit")
	assert.Equal(t, Service{Name: "email-processor", Namespace: "umbrella-ingestion", Consumes: []string{"raw-messages", "alerts"},
		Group: "email-processor", Produces: []string{"parsed-messages"}}, byName["email-processor"])
	assert.Equal(t, Service{Name: "ops", Namespace: "umbrella-streaming", Consumes: []string{"dead-letter", "normalized-messages-dlq"},
		Group: "ops", GroupPrefix: false}, byName["ops"])
	assert.Equal(t, Service{Name: "audit", Namespace: "umbrella-ui", Consumes: []string{"alerts"}, Group: "audit"}, byName["audit"])
	assert.Equal(t, before, Services, "the defaults are not modified")

	acls, err := ServiceACLs(s.Services, s.Topics)
	require.NoError(t, err)
	assert.Contains(t, aclsOf(acls, "User:email-processor"), "Read Topic alerts Literal")
	assert.Contains(t, aclsOf(acls, "User:ops"), "Read Group ops Literal")
	assert.NotContains(t, aclsOf(acls, "User:ops"), "Read Group ops- Prefixed")
}

// A renamed topic keeps its id, so a service naming the id still validates
// and its ACLs follow the new Kafka name.
func TestStackServicesFollowARenamedTopic(t *testing.T) {
	r := validDev()
	r.TopicOverrides = map[string]RawTopic{"alerts": {Name: sp("alerts-v2")}}
	s, err := Build("dev", r)
	require.NoError(t, err)
	acls, err := ServiceACLs(s.Services, s.Topics)
	require.NoError(t, err)
	assert.Contains(t, aclsOf(acls, "User:ui-backend"), "Read Topic alerts-v2 Literal")
}

// With monitoring, the lag exporter is one more principal, in the stack's
// namespace, with Describe on every group and topic and nothing else; without
// monitoring there is no exporter and no principal.
func TestLagExporterPrincipal(t *testing.T) {
	r := validDev()
	r.Security = &RawSecurity{Mode: sp(SecurityScram)}
	s, err := Build("prod", r)
	require.NoError(t, err)
	i := slices.IndexFunc(s.Services, func(svc Service) bool { return svc.Name == "lag-exporter" })
	require.GreaterOrEqual(t, i, 0, "lag-exporter is a service")
	assert.Equal(t, Service{Name: "lag-exporter", Namespace: "umbrella-streaming", DescribesAll: true}, s.Services[i])
	acls, err := ServiceACLs(s.Services, s.Topics)
	require.NoError(t, err)
	var mine []string
	for _, a := range acls {
		if a.Principal == "User:lag-exporter" {
			mine = append(mine, a.String())
		}
	}
	assert.Equal(t, []string{"User:lag-exporter Describe Group * (Literal)", "User:lag-exporter Describe Topic * (Literal)"}, mine)

	off := validDev()
	off.Monitoring = &RawMonitoring{Enabled: bp(false)}
	s, err = Build("dev", off)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(s.Services, func(svc Service) bool { return svc.Name == "lag-exporter" }))
	assert.Equal(t, len(Services), len(s.Services))
}

// Every security and service problem is reported in one run, in the order
// the sections are built.
func TestSecurityProblemsAreReportedTogether(t *testing.T) {
	r := validDev()
	r.Security = &RawSecurity{Mode: sp(SecurityScram), CertificateValidityDays: ip(1)}
	r.Monitoring = &RawMonitoring{Enabled: bp(false)}
	r.Services = map[string]RawService{"audit": {Namespace: sp("umbrella-ui")}}
	_, err := Build("dev", r)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 3, "%v", ve.Problems)
	assert.Contains(t, ve.Problems[0], "security.certificateValidityDays = 1: must be between 30 and 3650 days")
	assert.Contains(t, ve.Problems[1], `security.mode = "sasl-scram": needs monitoring.enabled = true`)
	assert.Contains(t, ve.Problems[2], "services.audit neither produces nor consumes a topic")
}

// Rendering forces the topic Job for that run only: a secure stack whose
// stack file names the provider builds in render mode (the program refuses
// to render it, TestRenderRefusesTheSecureProdStack); one naming the Job is
// refused in both modes (config/cases).
func TestSecureStackRendersWithTheProviderManager(t *testing.T) {
	r := validDev()
	r.Security = &RawSecurity{Mode: sp(SecurityScram)}
	s, err := BuildFor("dev", r, ModeRender)
	require.NoError(t, err)
	assert.True(t, s.Secure())
	assert.Equal(t, TopicManagerJob, s.TopicManager)
}
