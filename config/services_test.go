package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inventoryTopics() ([]TopicSpec, []string) {
	var topics []TopicSpec
	var ids []string
	for _, t := range Inventory {
		topics = append(topics, TopicSpec{ID: t.Name, Name: t.Name})
		ids = append(ids, t.Name)
	}
	return topics, ids
}

// Every inventory topic has a producing and a consuming service, and every
// service names only inventory topics: the principals are the seed's table.
func TestServicesCoverTheInventory(t *testing.T) {
	_, ids := inventoryTopics()
	assert.Empty(t, ValidateServices(Services, ids))
	for _, id := range ids {
		var producers, consumers []string
		for _, s := range Services {
			if slices.Contains(s.Produces, id) {
				producers = append(producers, s.Name)
			}
			if slices.Contains(s.Consumes, id) {
				consumers = append(consumers, s.Name)
			}
		}
		assert.NotEmpty(t, producers, "nobody produces to %s", id)
		assert.NotEmpty(t, consumers, "nobody consumes %s", id)
	}
}

func aclsOf(acls []ACL, principal string) []string {
	var out []string
	for _, a := range acls {
		if a.Principal == principal {
			out = append(out, a.Operation+" "+a.ResourceType+" "+a.ResourceName+" "+a.PatternType)
		}
	}
	return out
}

func TestServiceACLsAreLeastPrivilege(t *testing.T) {
	topics, _ := inventoryTopics()
	acls, err := ServiceACLs(Services, topics)
	require.NoError(t, err)

	assert.ElementsMatch(t, []string{
		"Write Topic raw-messages Literal", "Describe Topic raw-messages Literal",
		"Write Topic dead-letter Literal", "Describe Topic dead-letter Literal",
		"IdempotentWrite Cluster kafka-cluster Literal",
	}, aclsOf(acls, "User:connectors"), "the connectors write and never read")
	assert.ElementsMatch(t, []string{
		"Read Topic raw-messages Literal", "Describe Topic raw-messages Literal", "Read Group email-processor Literal",
		"Write Topic parsed-messages Literal", "Describe Topic parsed-messages Literal",
		"IdempotentWrite Cluster kafka-cluster Literal",
	}, aclsOf(acls, "User:email-processor"))
	assert.ElementsMatch(t, []string{
		"Read Topic dead-letter Literal", "Describe Topic dead-letter Literal",
		"Read Topic normalized-messages-dlq Literal", "Describe Topic normalized-messages-dlq Literal",
		"Read Group ops- Prefixed",
	}, aclsOf(acls, "User:ops"), "ops reads the dead letters only")

	again, err := ServiceACLs(Services, topics)
	require.NoError(t, err)
	assert.Equal(t, acls, again, "deterministic")
	assert.True(t, slices.IsSortedFunc(acls, func(a, b ACL) int { return strings.Compare(a.String(), b.String()) }))
}

// Adding a consumer adds exactly its rules; a renamed topic's rules follow
// its Kafka name.
func TestServiceACLsFollowTheInventory(t *testing.T) {
	topics, _ := inventoryTopics()
	before, err := ServiceACLs(Services, topics)
	require.NoError(t, err)
	reporting := Service{Name: "reporting", Namespace: "umbrella-ui", Consumes: []string{"alerts"}, Group: "reporting"}
	after, err := ServiceACLs(append(slices.Clone(Services), reporting), topics)
	require.NoError(t, err)
	var added []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			added = append(added, a.String())
		}
	}
	assert.ElementsMatch(t, []string{
		"User:reporting Read Topic alerts (Literal)", "User:reporting Describe Topic alerts (Literal)",
		"User:reporting Read Group reporting (Literal)",
	}, added)
	assert.Len(t, after, len(before)+3, "nothing else changed")

	renamed := slices.Clone(topics)
	for i := range renamed {
		if renamed[i].ID == "alerts" {
			renamed[i].Name = "alerts-v2"
		}
	}
	acls, err := ServiceACLs([]Service{reporting}, renamed)
	require.NoError(t, err)
	assert.Contains(t, aclsOf(acls, "User:reporting"), "Read Topic alerts-v2 Literal")

	_, err = ServiceACLs([]Service{{Name: "x", Consumes: []string{"nope"}, Group: "g"}}, topics)
	assert.ErrorContains(t, err, `service "x" consumes "nope", which is not a topic`)
}

func TestValidateServicesNamesTheFieldAndTheFix(t *testing.T) {
	_, ids := inventoryTopics()
	cases := []struct {
		svc  Service
		want string
	}{
		{Service{Name: "a", Namespace: "n", Consumes: []string{"alerts-typo"}, Group: "g"},
			`services.a.consumes names "alerts-typo", which is not a topic: use one of raw-messages,`},
		{Service{Name: "a", Namespace: "n"}, "services.a neither produces nor consumes a topic, so it would get no ACL"},
		{Service{Name: "a", Namespace: "n", Consumes: []string{"alerts"}}, "services.a consumes topics but has no group"},
		{Service{Name: "a", Produces: []string{"alerts"}}, "services.a.namespace is empty"},
		{Service{Namespace: "n", Produces: []string{"alerts"}}, "a service has no name"},
	}
	for _, c := range cases {
		problems := ValidateServices([]Service{c.svc}, ids)
		require.Len(t, problems, 1, "%+v: %v", c.svc, problems)
		assert.Contains(t, problems[0], c.want)
	}
	twice := []Service{{Name: "a", Namespace: "n", Produces: []string{"alerts"}}, {Name: "a", Namespace: "n", Produces: []string{"alerts"}}}
	assert.Equal(t, []string{"services.a: the name is used twice: service names are Kafka user names and must be unique"},
		ValidateServices(twice, ids))
}

// The README's table of services is the one a reader goes by: it must say
// exactly what config.Services grants (each row: name, namespace, produces,
// consumes with the group; `ops-*` for a group prefix).
func TestReadmeServicesTableIsServices(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	const header = "| service | namespace | produces | consumes (group) |"
	lines := strings.Split(string(text), "\n")
	start := slices.Index(lines, header)
	require.GreaterOrEqual(t, start, 0, "README.md has no services table (%s)", header)
	var rows []string
	for _, l := range lines[start+2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		rows = append(rows, l)
	}
	list := func(ids []string) string {
		if len(ids) == 0 {
			return "–"
		}
		return strings.Join(ids, ", ")
	}
	var want []string
	for _, s := range Services {
		consumes := list(s.Consumes)
		if len(s.Consumes) > 0 {
			group := s.Group
			if s.GroupPrefix {
				group += "*"
			}
			consumes += " (`" + group + "`)"
		}
		want = append(want, fmt.Sprintf("| `%s` | %s | %s | %s |", s.Name, s.Namespace, list(s.Produces), consumes))
	}
	assert.Equal(t, want, rows)
}
