package kafkaenv

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Listener is one entry of listeners or advertised.listeners, NAME://host:port.
// An empty host means every interface.
type Listener struct {
	Name string
	Host string
	Port int
}

// String prints the listener as Kafka reads it (an IPv6 host in brackets).
func (l Listener) String() string {
	return l.Name + "://" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
}

// SecurityProtocols are Kafka's four; a listener named after one needs no
// entry in listener.security.protocol.map.
var SecurityProtocols = map[string]bool{"PLAINTEXT": true, "SSL": true, "SASL_PLAINTEXT": true, "SASL_SSL": true}

var (
	listenerRE     = regexp.MustCompile(`^([A-Za-z0-9_]+)://(\[[0-9a-fA-F:.%]*\]|[0-9A-Za-z\-%._]*):([0-9]+)$`)
	listenerNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// ParseListeners reads a comma-separated listener list. Names are unique (Kafka
// refuses a repeated name); an empty value is an empty list.
func ParseListeners(v string) ([]Listener, error) {
	var out []Listener
	seen := map[string]bool{}
	for _, raw := range splitList(v) {
		m := listenerRE.FindStringSubmatch(raw)
		if m == nil {
			return nil, fmt.Errorf("%q is not NAME://host:port (e.g. PLAINTEXT://kafka:9092; an empty host listens on every interface)", raw)
		}
		port, err := strconv.Atoi(m[3])
		if err != nil || port > 65535 {
			return nil, fmt.Errorf("%q: port %s is not 0-65535", raw, m[3])
		}
		l := Listener{Name: strings.ToUpper(m[1]), Host: strings.Trim(m[2], "[]"), Port: port}
		if seen[l.Name] {
			return nil, fmt.Errorf("listener name %s appears twice", l.Name)
		}
		seen[l.Name] = true
		out = append(out, l)
	}
	return out, nil
}

// JoinListeners prints a listener list as ParseListeners reads it.
func JoinListeners(ls []Listener) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// ParseProtocolMap reads listener.security.protocol.map, NAME:PROTOCOL,….
func ParseProtocolMap(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, raw := range splitList(v) {
		name, proto, ok := strings.Cut(raw, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || !listenerNameRE.MatchString(name) {
			return nil, fmt.Errorf("%q is not NAME:PROTOCOL", raw)
		}
		if !SecurityProtocols[proto] {
			return nil, fmt.Errorf("%q: %s is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", raw, proto)
		}
		out[name] = proto
	}
	return out, nil
}

// Voter is one entry of controller.quorum.voters, id@host:port.
type Voter struct {
	ID   int
	Host string
	Port int
}

var voterRE = regexp.MustCompile(`^([0-9]+)@(\[[0-9a-fA-F:.%]*\]|[0-9A-Za-z\-%._]+):([0-9]+)$`)

// ParseVoters reads controller.quorum.voters.
func ParseVoters(v string) ([]Voter, error) {
	var out []Voter
	for _, raw := range splitList(v) {
		m := voterRE.FindStringSubmatch(raw)
		if m == nil {
			return nil, fmt.Errorf("%q is not id@host:port (e.g. 1@kafka:9093)", raw)
		}
		id, err1 := strconv.Atoi(m[1])
		port, err2 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || port > 65535 {
			return nil, fmt.Errorf("%q: id or port out of range", raw)
		}
		out = append(out, Voter{ID: id, Host: strings.Trim(m[2], "[]"), Port: port})
	}
	return out, nil
}

// splitList reads a comma-separated value as Kafka's list configs do.
func splitList(v string) []string { return rules.SplitList(v) }
