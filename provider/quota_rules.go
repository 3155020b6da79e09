package provider

import (
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// quotaKey is one client quota Kafka 4.1 knows (QuotaConfig): its value
// type decides whether a fraction is allowed and the largest value.
type quotaKey struct {
	Name string
	// Whole is true for Kafka's LONG and INT quotas, which refuse fractions.
	Whole bool
	// Max is the largest value Kafka stores.
	Max float64
	// Doc says what the value limits, for error messages.
	Doc string
}

// The quota keys of each entity type, as Kafka 4.1 defines them
// (QuotaConfig.userAndClientQuotaConfigs and ipConfigs). SCRAM credentials
// also live under users but are UserScramCredential's business.
var (
	userClientQuotaKeys = []quotaKey{
		{"consumer_byte_rate", true, math.MaxInt64, "bytes/second fetched, per broker"},
		{"controller_mutation_rate", false, math.MaxFloat64, "topic/partition mutations/second"},
		{"producer_byte_rate", true, math.MaxInt64, "bytes/second produced, per broker"},
		{"request_percentage", false, math.MaxFloat64, "percent of one request-handler thread, per broker"},
	}
	ipQuotaKeys = []quotaKey{
		{"connection_creation_rate", true, math.MaxInt32, "new connections/second, per broker"},
	}
	quotaKeysByType = map[string][]quotaKey{
		"user":      userClientQuotaKeys,
		"client-id": userClientQuotaKeys,
		"ip":        ipQuotaKeys,
	}
	quotaEntityTypes = []string{"client-id", "ip", "user"}
)

func quotaKeyNames(keys []quotaKey) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// normalizeQuotaType lowercases the entity type; Kafka's names are lowercase.
func normalizeQuotaType(t string) string { return strings.ToLower(strings.TrimSpace(t)) }

// checkQuota returns a failure for each field Kafka would refuse. known
// reports whether a field's value is known (see checkAcl).
func checkQuota(q QuotaArgs, known func(string) bool, configKnown bool) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field, msg string) {
		if msg != "" {
			failures = append(failures, p.CheckFailure{Property: field, Reason: msg})
		}
	}
	typ := normalizeQuotaType(q.EntityType)
	_, typeOK := quotaKeysByType[typ]
	if known("entityType") && !typeOK {
		fix := "use one of " + strings.Join(quotaEntityTypes, ", ")
		if near, ok := rules.Nearest(q.EntityType, quotaEntityTypes); ok {
			fix = fmt.Sprintf("did you mean %q? Use one of %s", near, strings.Join(quotaEntityTypes, ", "))
		}
		fail("entityType", rules.Message("entityType", q.EntityType, "is not a client quota entity type", fix))
	}
	if known("entityName") && typeOK {
		fail("entityName", entityNameFailure(typ, deref(q.EntityName)))
	}
	if !configKnown || !typeOK {
		return failures
	}
	if len(q.Config) == 0 {
		fail("config", rules.Message("config", "{}", "is empty: a quota with no keys is no quota, and Kafka keeps nothing for it",
			"set at least one of "+strings.Join(quotaKeyNames(quotaKeysByType[typ]), ", ")))
	}
	keys := make([]string, 0, len(q.Config))
	for k := range q.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fail(quotaConfigPath(k), quotaValueFailure(typ, k, q.Config[k]))
	}
	return failures
}

// quotaConfigPath is the property path of one quota key, e.g. config["producer_byte_rate"].
func quotaConfigPath(key string) string { return "config[" + strconv.Quote(key) + "]" }

// entityNameFailure checks an entity's name. A user quota names the
// principal's name without its type: Kafka matches "alice" for User:alice,
// and a quota for "User:alice" would apply to nobody. An ip entity is an IP
// address (or empty for the default of every IP): Kafka would resolve a host
// name once, on the controller, and keep the address, so the state would
// never match.
func entityNameFailure(typ, name string) string {
	if typ == "user" && strings.HasPrefix(name, "User:") {
		return rules.Message("entityName", name, "starts with \"User:\", but a user quota names the user alone "+
			"(Kafka matches \""+strings.TrimPrefix(name, "User:")+"\" for the principal "+name+")",
			"write entityName = \""+strings.TrimPrefix(name, "User:")+"\"")
	}
	if typ != "ip" || name == "" || net.ParseIP(name) != nil {
		return ""
	}
	return rules.Message("entityName", name, "is not an IP address (entityType = \"ip\")",
		"write the client's IP address, e.g. \"203.0.113.7\", or leave entityName out for the default of every IP")
}

// quotaValueFailure checks one key and value with Kafka 4.1's rules: a key
// the entity type knows, a number, greater than 0, whole for LONG and INT
// quotas, and no larger than the type holds.
func quotaValueFailure(typ, key, value string) string {
	keys := quotaKeysByType[typ]
	i := slices.IndexFunc(keys, func(k quotaKey) bool { return k.Name == key })
	if i < 0 {
		names := quotaKeyNames(keys)
		fix := fmt.Sprintf("use one of %s for entityType = %q", strings.Join(names, ", "), typ)
		if near, ok := rules.Nearest(key, names); ok {
			fix = fmt.Sprintf("did you mean %q? %s", near, fix)
		}
		if typ != "ip" && key == "connection_creation_rate" {
			fix = "connection_creation_rate is an ip quota: put it on a Quota with entityType = \"ip\""
		}
		return rules.Message(quotaConfigPath(key), value, fmt.Sprintf("%q is not a quota Kafka knows for entityType = %q", key, typ), fix)
	}
	k := keys[i]
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return rules.Message(quotaConfigPath(key), value, "is not a number", "write a number of "+k.Doc+", e.g. \"1048576\"")
	case v <= 0:
		return rules.Message(quotaConfigPath(key), value, "is not greater than 0, which Kafka requires of every quota",
			"set a positive limit of "+k.Doc+", or remove the key to lift the limit")
	case k.Whole && v != math.Trunc(v):
		return rules.Message(quotaConfigPath(key), value, "is a fraction, but Kafka stores "+key+" as a whole number",
			"round it, e.g. \""+strconv.FormatFloat(math.Round(v), 'f', -1, 64)+"\"")
	case v > k.Max:
		return rules.Message(quotaConfigPath(key), value, "is larger than Kafka stores for "+key,
			"set at most "+strconv.FormatFloat(k.Max, 'f', -1, 64))
	}
	return ""
}

// sameQuotaValue compares two quota values by meaning: Kafka answers every
// value as a double, so "1048576" and "1048576.0" are the same.
func sameQuotaValue(a, b string) bool {
	x, errA := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, errB := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if errA != nil || errB != nil {
		return a == b
	}
	return x == y
}

// formatQuotaValue writes a value Kafka answered as the shortest decimal,
// with no exponent: 1048576 as "1048576", 0.5 as "0.5".
func formatQuotaValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
