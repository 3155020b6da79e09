package provider

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// ListenerCertificatesToken is the Pulumi type token of the ListenerCertificates resource.
const ListenerCertificatesToken = "umbrellakafka:index:ListenerCertificates"

// Limits of ListenerCertificates' validity inputs, in days.
const (
	CertMinValidityDays     = 1
	CertMaxValidityDays     = 3650
	CertDefaultValidityDays = 365
	// CAMaxValidityDays bounds the CA: 20 years, beyond any key-management
	// period, so a forgotten CA key still ages out.
	CAMaxValidityDays     = 7300
	CADefaultValidityDays = 3650
)

// ListenerCertificates is the controller of umbrellakafka:index:ListenerCertificates:
// a private CA and the leaf certificates of a Kafka cluster's TLS listeners
// (one server certificate every broker shares, one client certificate per
// client common name), made by the provider and kept in the Pulumi state as
// secrets.
//
// Nothing lives outside the state, so it needs no Kafka connection: Create
// generates, Read returns the state as is, Delete forgets. The material is
// made once and only remade when asked: a change of the leaf inputs
// (serverCommonName, serverNames, clientCommonNames, validityDays, rotation)
// re-issues the leaves it concerns in place and keeps the CA, so brokers and
// clients that trust the CA keep trusting each other through a rolling
// restart; a change of caValidityDays replaces the whole resource (see Diff).
type ListenerCertificates struct{}

// ListenerCertificatesArgs are the inputs of a ListenerCertificates.
type ListenerCertificatesArgs struct {
	// ServerCommonName is the CN of the server certificate (the brokers' principal).
	ServerCommonName string `pulumi:"serverCommonName"`
	// ServerNames are the DNS names and IPs of the server certificate.
	ServerNames []string `pulumi:"serverNames"`
	// ClientCommonNames are the CNs of the client certificates, one each.
	ClientCommonNames []string `pulumi:"clientCommonNames,optional"`
	// ValidityDays is the leaf certificates' validity.
	ValidityDays *int `pulumi:"validityDays,optional"`
	// Rotation is bumped to re-issue every leaf.
	Rotation *int `pulumi:"rotation,optional"`
	// CAValidityDays is the CA certificate's validity.
	CAValidityDays *int `pulumi:"caValidityDays,optional"`
}

// ListenerCertificatesState is the recorded state: the inputs (defaults
// applied) and the generated material.
type ListenerCertificatesState struct {
	ServerCommonName  string   `pulumi:"serverCommonName"`
	ServerNames       []string `pulumi:"serverNames"`
	ClientCommonNames []string `pulumi:"clientCommonNames"`
	ValidityDays      int      `pulumi:"validityDays"`
	Rotation          int      `pulumi:"rotation"`
	CAValidityDays    int      `pulumi:"caValidityDays"`

	CACertPEM          string                       `pulumi:"caCertPem"`
	CAKeyPEM           string                       `pulumi:"caKeyPem" provider:"secret"`
	ServerCertPEM      string                       `pulumi:"serverCertPem"`
	ServerKeyPEM       string                       `pulumi:"serverKeyPem" provider:"secret"`
	ServerKeystorePEM  string                       `pulumi:"serverKeystorePem" provider:"secret"`
	ClientCertificates map[string]ClientCertificate `pulumi:"clientCertificates" provider:"secret"`
	NotAfter           string                       `pulumi:"notAfter"`
}

// ClientCertificate is one client certificate of a ListenerCertificates.
type ClientCertificate struct {
	CertPEM string `pulumi:"certPem"`
	KeyPEM  string `pulumi:"keyPem" provider:"secret"`
}

// Compile-time checks that ListenerCertificates implements every lifecycle step it claims.
var (
	_ infer.CustomResource[ListenerCertificatesArgs, ListenerCertificatesState]       = ListenerCertificates{}
	_ infer.CustomCheck[ListenerCertificatesArgs]                                     = ListenerCertificates{}
	_ infer.CustomDiff[ListenerCertificatesArgs, ListenerCertificatesState]           = ListenerCertificates{}
	_ infer.CustomRead[ListenerCertificatesArgs, ListenerCertificatesState]           = ListenerCertificates{}
	_ infer.CustomUpdate[ListenerCertificatesArgs, ListenerCertificatesState]         = ListenerCertificates{}
	_ infer.CustomDelete[ListenerCertificatesState]                                   = ListenerCertificates{}
	_ infer.ExplicitDependencies[ListenerCertificatesArgs, ListenerCertificatesState] = ListenerCertificates{}
	_ infer.Annotated                                                                 = (*ListenerCertificates)(nil)
	_ infer.Annotated                                                                 = (*ListenerCertificatesArgs)(nil)
	_ infer.Annotated                                                                 = (*ListenerCertificatesState)(nil)
	_ infer.Annotated                                                                 = (*ClientCertificate)(nil)
)

// Annotate sets the type token and documents the resource.
func (c *ListenerCertificates) Annotate(a infer.Annotator) {
	a.SetToken("index", "ListenerCertificates")
	a.Describe(c, "A private CA (ECDSA P-256) and the certificates of a Kafka cluster's TLS listeners: one server "+
		"certificate every broker presents (and also uses as a client towards the other brokers), and one client "+
		"certificate per clientCommonNames entry; each subject is CN=<name>, the principal User:<name> under the rule "+
		"^CN=([^,]+)$. Made by the provider, kept in the state as secrets (keys as unencrypted PKCS#8), never read from "+
		"anywhere else, so it needs no Kafka connection (the provider may have no bootstrapServers) and cannot be "+
		"imported. Nothing is regenerated unless asked: changing serverCommonName, serverNames, clientCommonNames, "+
		"validityDays or rotation re-issues the leaves concerned in place and keeps the CA (a rolling restart stays "+
		"safe: old and new certificates are signed by the same CA); changing caValidityDays replaces the resource, "+
		"CA included. pulumi-kafka has no such resource.")
}

// Annotate documents the inputs for the schema.
func (c *ListenerCertificatesArgs) Annotate(a infer.Annotator) {
	a.Describe(&c.ServerCommonName, "Common name of the server certificate, e.g. \"kafka-broker\": the brokers' "+
		"principal (User:<name>) when they connect to each other with it. Letters, digits, '.', '_' and '-', up to 64. "+
		"Changing it re-issues the server certificate in place.")
	a.Describe(&c.ServerNames, "Names the server certificate is valid for (subject alternative names): DNS names, "+
		"wildcards such as \"*.kafka-headless.ns.svc\" (one leftmost label), and IP addresses. Clients check the "+
		"name they dial against it. Changing it re-issues the server certificate in place.")
	a.Describe(&c.ClientCommonNames, "Common names of the client certificates to issue, one certificate each, "+
		"e.g. [\"umbrella-deployer\"] (principal User:umbrella-deployer). Adding a name issues its certificate, "+
		"removing one drops it; the others are kept.")
	a.Describe(&c.ValidityDays, fmt.Sprintf("Validity of the leaf (server and client) certificates in days, %d to "+
		"%d. Changing it re-issues every leaf in place.", CertMinValidityDays, CertMaxValidityDays))
	a.SetDefault(&c.ValidityDays, CertDefaultValidityDays)
	a.Describe(&c.Rotation, "Bump it (0, 1, 2, ...) to re-issue every leaf key and certificate in place, e.g. "+
		"before notAfter; the CA is kept, so brokers restarted one by one keep talking to each other.")
	a.SetDefault(&c.Rotation, 0)
	a.Describe(&c.CAValidityDays, fmt.Sprintf("Validity of the CA certificate in days, %d to %d and at least "+
		"validityDays. Changing it replaces the resource: a new CA, which every broker and client must trust "+
		"before the old one is dropped.", CertMinValidityDays, CAMaxValidityDays))
	a.SetDefault(&c.CAValidityDays, CADefaultValidityDays)
}

// Annotate documents the outputs for the schema.
func (c *ListenerCertificatesState) Annotate(a infer.Annotator) {
	a.Describe(&c.ServerCommonName, "Common name of the server certificate.")
	a.Describe(&c.ServerNames, "Names of the server certificate.")
	a.Describe(&c.ClientCommonNames, "Common names of the client certificates.")
	a.Describe(&c.ValidityDays, "Validity of the leaf certificates in days.")
	a.Describe(&c.Rotation, "The rotation the leaves were last issued for.")
	a.Describe(&c.CAValidityDays, "Validity of the CA certificate in days.")
	a.Describe(&c.CACertPEM, "The CA certificate (PEM): the truststore of brokers and clients "+
		"(ssl.truststore.type=PEM reads it as is).")
	a.Describe(&c.CAKeyPEM, "The CA's private key (PEM, PKCS#8). Secret.")
	a.Describe(&c.ServerCertPEM, "The server certificate (PEM).")
	a.Describe(&c.ServerKeyPEM, "The server certificate's private key (PEM, unencrypted PKCS#8 \"PRIVATE KEY\"). Secret.")
	a.Describe(&c.ServerKeystorePEM, "The server key, then the server certificate and the CA certificate (PEM): "+
		"the file Kafka's ssl.keystore.type=PEM reads. Secret.")
	a.Describe(&c.ClientCertificates, "The client certificates by common name. Secret as a whole, since it holds "+
		"their keys.")
	a.Describe(&c.NotAfter, "When the first leaf certificate expires (RFC 3339, UTC): bump rotation before it.")
}

// Annotate documents a client certificate for the schema.
func (c *ClientCertificate) Annotate(a infer.Annotator) {
	a.SetToken("index", "ClientCertificate")
	a.Describe(c, "A client certificate and its key.")
	a.Describe(&c.CertPEM, "The client certificate (PEM).")
	a.Describe(&c.KeyPEM, "Its private key (PEM, unencrypted PKCS#8 \"PRIVATE KEY\"). Secret.")
}

// WireDependencies says which outputs each input changes, so that a preview
// of an update shows as unknown only the material that will really change
// (the CA stays known across a rotation).
func (ListenerCertificates) WireDependencies(f infer.FieldSelector, args *ListenerCertificatesArgs,
	state *ListenerCertificatesState,
) {
	cn, names := f.InputField(&args.ServerCommonName).Computed(), f.InputField(&args.ServerNames).Computed()
	clients := f.InputField(&args.ClientCommonNames).Computed()
	days, rotation := f.InputField(&args.ValidityDays).Computed(), f.InputField(&args.Rotation).Computed()
	caDays := f.InputField(&args.CAValidityDays).Computed()

	f.OutputField(&state.ServerCommonName).DependsOn(cn)
	f.OutputField(&state.ServerNames).DependsOn(names)
	f.OutputField(&state.ClientCommonNames).DependsOn(clients)
	f.OutputField(&state.ValidityDays).DependsOn(days)
	f.OutputField(&state.Rotation).DependsOn(rotation)
	f.OutputField(&state.CAValidityDays).DependsOn(caDays)
	f.OutputField(&state.CACertPEM).DependsOn(caDays)
	f.OutputField(&state.CAKeyPEM).DependsOn(caDays)
	for _, server := range []any{&state.ServerCertPEM, &state.ServerKeyPEM, &state.ServerKeystorePEM} {
		f.OutputField(server).DependsOn(cn, names, days, rotation, caDays)
	}
	f.OutputField(&state.ClientCertificates).DependsOn(clients, days, rotation, caDays)
	f.OutputField(&state.NotAfter).DependsOn(cn, names, clients, days, rotation, caDays)

	// infer applies the secret tags of inputs only; outputs made here are
	// marked secret here, so they are secret for every client of the
	// provider, not only for the SDKs that read the schema. infer marks whole
	// outputs, so clientCertificates is secret as a whole (its keys inside).
	for _, key := range []any{&state.CAKeyPEM, &state.ServerKeyPEM, &state.ServerKeystorePEM, &state.ClientCertificates} {
		f.OutputField(key).AlwaysSecret()
	}
}

// Check validates the inputs before anything is generated. Values unknown
// during a preview (a list counts as unknown while any item is, e.g. a
// Service's address among serverNames) are left for the next check.
func (ListenerCertificates) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[ListenerCertificatesArgs], error,
) {
	args, failures, err := infer.DefaultCheck[ListenerCertificatesArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[ListenerCertificatesArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		if !ok {
			return true
		}
		if v.IsArray() {
			return !slices.ContainsFunc(v.AsArray().AsSlice(), property.Value.IsComputed)
		}
		return !v.IsComputed()
	}
	defaultInt := func(v **int, key string, def int) {
		if *v == nil && known(key) {
			*v = &def
		}
	}
	defaultInt(&args.ValidityDays, "validityDays", CertDefaultValidityDays)
	defaultInt(&args.Rotation, "rotation", 0)
	defaultInt(&args.CAValidityDays, "caValidityDays", CADefaultValidityDays)
	return infer.CheckResponse[ListenerCertificatesArgs]{Inputs: args, Failures: checkCerts(args, known)}, nil
}

// checkCerts is the pure core of Check: every refusal, one per bad value.
func checkCerts(a ListenerCertificatesArgs, known func(string) bool) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(prop, msg string) {
		if msg != "" {
			failures = append(failures, p.CheckFailure{Property: prop, Reason: msg})
		}
	}
	if known("serverCommonName") {
		fail("serverCommonName", pki.CheckCommonName("serverCommonName", a.ServerCommonName, "kafka-broker"))
	}
	if known("serverNames") {
		if len(a.ServerNames) == 0 {
			fail("serverNames", rules.Message("serverNames", a.ServerNames, "is empty: a server certificate must name "+
				"the hosts clients dial, or every TLS host name check fails",
				`list the brokers' DNS names and IPs, e.g. ["*.kafka-headless.ns.svc", "localhost", "127.0.0.1"]`))
		}
		for i, n := range a.ServerNames {
			prop := fmt.Sprintf("serverNames[%d]", i)
			fail(prop, pki.CheckServerName(prop, n))
		}
	}
	if known("clientCommonNames") {
		first := map[string]int{}
		for i, cn := range a.ClientCommonNames {
			prop := fmt.Sprintf("clientCommonNames[%d]", i)
			if j, dup := first[cn]; dup {
				fail(prop, rules.Message(prop, cn, fmt.Sprintf("repeats clientCommonNames[%d]: one certificate per "+
					"common name", j), "list each name once"))
				continue
			}
			first[cn] = i
			fail(prop, pki.CheckCommonName(prop, cn, "umbrella-deployer"))
		}
	}
	if known("validityDays") {
		fail("validityDays", validateDays("validityDays", deref(a.ValidityDays), CertMaxValidityDays, CertDefaultValidityDays))
	}
	if known("rotation") && deref(a.Rotation) < 0 {
		fail("rotation", rules.Message("rotation", deref(a.Rotation), "is negative",
			"start at 0 and only ever raise it by one to re-issue the leaves"))
	}
	if known("caValidityDays") {
		msg := validateDays("caValidityDays", deref(a.CAValidityDays), CAMaxValidityDays, CADefaultValidityDays)
		if msg == "" && known("validityDays") && deref(a.CAValidityDays) < deref(a.ValidityDays) {
			msg = rules.Message("caValidityDays", deref(a.CAValidityDays), fmt.Sprintf("is below validityDays (%d): "+
				"the leaves would outlive the CA that signs them", deref(a.ValidityDays)),
				"raise caValidityDays or lower validityDays")
		}
		fail("caValidityDays", msg)
	}
	return failures
}

func validateDays(field string, n, limit, def int) string {
	if n >= CertMinValidityDays && n <= limit {
		return ""
	}
	return rules.Message(field, n, fmt.Sprintf("is outside %d..%d days", CertMinValidityDays, limit),
		fmt.Sprintf("set it between %d and %d, or leave it unset for %d", CertMinValidityDays, limit, def))
}

// Diff compares the state with the new inputs field by field. A change of a
// leaf input is an update in place (new leaves, same CA). A change of
// caValidityDays replaces the resource: the CA's validity is signed into the
// CA certificate itself, so it means a new CA, i.e. a new trust root that
// every broker and client must be given; a replacement makes that visible in
// the preview instead of hiding it in an update.
func (ListenerCertificates) Diff(_ context.Context,
	req infer.DiffRequest[ListenerCertificatesArgs, ListenerCertificatesState],
) (infer.DiffResponse, error) {
	return diffCerts(req.State, req.Inputs), nil
}

// diffCerts is the pure core of Diff. A nil number in news is a value
// unknown during a preview (Check fills the defaults of known ones).
func diffCerts(olds ListenerCertificatesState, news ListenerCertificatesArgs) p.DiffResponse {
	d := map[string]p.PropertyDiff{}
	changed := func(key string, differs bool, kind p.DiffKind) {
		if differs {
			d[key] = p.PropertyDiff{Kind: kind, InputDiff: true}
		}
	}
	intDiffers := func(old int, new *int) bool { return new == nil || *new != old }
	changed("serverCommonName", olds.ServerCommonName != news.ServerCommonName, p.Update)
	changed("serverNames", !slices.Equal(olds.ServerNames, news.ServerNames), p.Update)
	changed("clientCommonNames", !slices.Equal(olds.ClientCommonNames, news.ClientCommonNames), p.Update)
	changed("validityDays", intDiffers(olds.ValidityDays, news.ValidityDays), p.Update)
	changed("rotation", intDiffers(olds.Rotation, news.Rotation), p.Update)
	changed("caValidityDays", intDiffers(olds.CAValidityDays, news.CAValidityDays), p.UpdateReplace)
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// certInputs is the state's copy of the inputs, defaults applied. Zero days
// is below CertMinValidityDays, which Check refuses, so an unset and a zero
// validity both take the default.
func certInputs(in ListenerCertificatesArgs) ListenerCertificatesState {
	return ListenerCertificatesState{
		ServerCommonName:  in.ServerCommonName,
		ServerNames:       slices.Clone(in.ServerNames),
		ClientCommonNames: slices.Clone(in.ClientCommonNames),
		ValidityDays:      cmp.Or(deref(in.ValidityDays), CertDefaultValidityDays),
		Rotation:          deref(in.Rotation),
		CAValidityDays:    cmp.Or(deref(in.CAValidityDays), CADefaultValidityDays),
	}
}

// certsID is the resource ID: there is nothing remote to name, so the CA's
// common name says what the resource is.
func certsID(in ListenerCertificatesArgs) string { return in.ServerCommonName + " CA" }

// Create makes the CA and every leaf. A preview generates nothing (the
// material shows as unknown).
func (ListenerCertificates) Create(_ context.Context, req infer.CreateRequest[ListenerCertificatesArgs]) (
	infer.CreateResponse[ListenerCertificatesState], error,
) {
	out := certInputs(req.Inputs)
	if req.DryRun {
		return infer.CreateResponse[ListenerCertificatesState]{ID: certsID(req.Inputs), Output: out}, nil
	}
	now := time.Now()
	ca, err := pki.NewCA(out.ServerCommonName+" CA", out.CAValidityDays, now)
	if err != nil {
		return infer.CreateResponse[ListenerCertificatesState]{}, fmt.Errorf("ListenerCertificates: %w", err)
	}
	out.CACertPEM, out.CAKeyPEM = ca.CertPEM, ca.KeyPEM
	if err := reissue(&out, leafPlan{server: true, allClients: true}, now); err != nil {
		return infer.CreateResponse[ListenerCertificatesState]{}, fmt.Errorf("ListenerCertificates: %w", err)
	}
	return infer.CreateResponse[ListenerCertificatesState]{ID: certsID(req.Inputs), Output: out}, nil
}

// leafPlan says which leaves an update re-issues: the server certificate,
// and every client certificate or only those of new names.
type leafPlan struct{ server, allClients bool }

// planLeaves is what a change from olds to news re-issues. validityDays and
// rotation concern every leaf; the server's names only the server
// certificate; clientCommonNames only the added names (Update drops the
// removed ones), so adding a client does not roll the brokers.
func planLeaves(olds ListenerCertificatesState, news ListenerCertificatesState) leafPlan {
	all := olds.ValidityDays != news.ValidityDays || olds.Rotation != news.Rotation
	return leafPlan{
		server:     all || olds.ServerCommonName != news.ServerCommonName || !slices.Equal(olds.ServerNames, news.ServerNames),
		allClients: all,
	}
}

// reissue issues the leaves plan asks for into st (which holds the CA and
// the previous leaves), keeps the others, drops client certificates of names
// no longer listed, and recomputes notAfter.
func reissue(st *ListenerCertificatesState, plan leafPlan, now time.Time) error {
	ca, err := pki.LoadSigner(st.CACertPEM, st.CAKeyPEM)
	if err != nil {
		return err
	}
	if plan.server || st.ServerCertPEM == "" {
		leaf, err := ca.Issue(st.ServerCommonName, st.ServerNames, pki.ServerUsages(), st.ValidityDays, now)
		if err != nil {
			return err
		}
		st.ServerCertPEM, st.ServerKeyPEM = leaf.CertPEM, leaf.KeyPEM
		st.ServerKeystorePEM = leaf.Keystore(st.CACertPEM)
	}
	clients := make(map[string]ClientCertificate, len(st.ClientCommonNames))
	for _, cn := range st.ClientCommonNames {
		if old, ok := st.ClientCertificates[cn]; ok && !plan.allClients {
			clients[cn] = old
			continue
		}
		leaf, err := ca.Issue(cn, nil, pki.ClientUsages(), st.ValidityDays, now)
		if err != nil {
			return err
		}
		clients[cn] = ClientCertificate{CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM}
	}
	st.ClientCertificates = clients
	st.NotAfter, err = firstExpiry(st)
	return err
}

// firstExpiry is the earliest notAfter of the leaves, RFC 3339 in UTC.
func firstExpiry(st *ListenerCertificatesState) (string, error) {
	pems := []string{st.ServerCertPEM}
	for _, c := range st.ClientCertificates {
		pems = append(pems, c.CertPEM)
	}
	first, err := pki.FirstExpiry(pems...)
	if err != nil {
		return "", err
	}
	return first.UTC().Format(time.RFC3339), nil
}

// Read returns the state unchanged: the material exists nowhere else, so
// there is nothing to refresh, and a refresh never shows a difference. An
// import (no state) is refused: a CA's key cannot be read from anywhere.
func (ListenerCertificates) Read(_ context.Context,
	req infer.ReadRequest[ListenerCertificatesArgs, ListenerCertificatesState],
) (infer.ReadResponse[ListenerCertificatesArgs, ListenerCertificatesState], error) {
	if req.State.CACertPEM == "" {
		return infer.ReadResponse[ListenerCertificatesArgs, ListenerCertificatesState]{}, fmt.Errorf(
			"ListenerCertificates %q cannot be imported: its keys exist only in the Pulumi state; declare the "+
				"resource and run pulumi up to generate them", req.ID)
	}
	return infer.ReadResponse[ListenerCertificatesArgs, ListenerCertificatesState]{
		ID: req.ID, Inputs: req.Inputs, State: req.State,
	}, nil
}

// Update re-issues the leaves the change concerns (planLeaves) with the
// state's CA. With no leaf input changed it returns the state as it was.
func (ListenerCertificates) Update(_ context.Context,
	req infer.UpdateRequest[ListenerCertificatesArgs, ListenerCertificatesState],
) (infer.UpdateResponse[ListenerCertificatesState], error) {
	olds := req.State
	out := certInputs(req.Inputs)
	out.CACertPEM, out.CAKeyPEM = olds.CACertPEM, olds.CAKeyPEM
	out.ServerCertPEM, out.ServerKeyPEM, out.ServerKeystorePEM = olds.ServerCertPEM, olds.ServerKeyPEM, olds.ServerKeystorePEM
	out.ClientCertificates, out.NotAfter = olds.ClientCertificates, olds.NotAfter
	if req.DryRun || !diffCerts(olds, req.Inputs).HasChanges {
		return infer.UpdateResponse[ListenerCertificatesState]{Output: out}, nil
	}
	if err := reissue(&out, planLeaves(olds, out), time.Now()); err != nil {
		return infer.UpdateResponse[ListenerCertificatesState]{}, fmt.Errorf("ListenerCertificates %q: %w", req.ID, err)
	}
	return infer.UpdateResponse[ListenerCertificatesState]{Output: out}, nil
}

// Delete has nothing to remove: the material leaves with the state.
func (ListenerCertificates) Delete(context.Context, infer.DeleteRequest[ListenerCertificatesState]) (
	infer.DeleteResponse, error,
) {
	return infer.DeleteResponse{}, nil
}
