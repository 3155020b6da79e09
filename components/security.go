package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// Authenticated, encrypted listeners (security.mode sasl-scram, issue 16).
//
// The brokers' certificates and the Kafka admin provider's client certificate
// come from one umbrellakafka ListenerCertificates resource: generated once by
// the provider, kept as secrets in the Pulumi state, re-issued only when
// security.certificateRotation changes (same CA, so old and new certificates
// trust each other during the rolling restart that follows). They reach the
// pods as the Secret TLSSecretName. Each platform service (Spec.Services) is a
// SCRAM-SHA-512 user with a generated password and exactly the ACLs
// config.ServiceACLs computes; its credentials go to a Secret in the
// service's own namespace (ServiceSecretName).

// Component type tokens of the secure mode.
const (
	SecurityType      = "umbrella:streaming:Security"
	ServiceAccessType = "umbrella:streaming:ServiceAccess"
)

// TLSVolumeName is the pod volume of the TLS Secret.
const TLSVolumeName = "tls"

// TLSChecksumAnnotation rolls the brokers when their certificate is re-issued.
const TLSChecksumAnnotation = "umbrella.io/tls-checksum"

// ScramIterations is each service user's SCRAM iteration count (Kafka's
// default; 4096 is its minimum).
const ScramIterations = 8192

// Keys of a service's credentials Secret.
const (
	SecretKeyUsername         = "username"
	SecretKeyPassword         = "password"
	SecretKeyMechanism        = "sasl.mechanism"
	SecretKeyProtocol         = "security.protocol"
	SecretKeyBootstrap        = "bootstrap.servers"
	SecretKeyCA               = "ca.crt"
	SecretKeyClientProperties = "client.properties"
)

// BrokerCertNames are the names the shared broker certificate is valid for:
// every pod under the headless Service (one wildcard, so adding a broker needs
// no new certificate), the headless and client Services, with and without the
// cluster domain, and localhost for Kafka's tools run inside a broker pod.
func BrokerCertNames(namespace string) []string {
	var names []string
	for _, host := range []string{
		"*." + HeadlessServiceName + "." + namespace,
		HeadlessServiceName + "." + namespace,
		ClientServiceName + "." + namespace,
	} {
		names = append(names, host+".svc", host+".svc."+ClusterDomain)
	}
	return append(names, "localhost")
}

// ClusterDomain is the cluster DNS domain BootstrapAddress uses.
const ClusterDomain = "cluster.local"

// InternalBootstrapAddress is what the Kafka admin provider dials in secure
// mode: the mTLS INTERNAL listener of any broker through the headless Service
// (the client Service only carries the client port).
func InternalBootstrapAddress(namespace string) string {
	return fmt.Sprintf("%s.%s.svc.%s:%d", HeadlessServiceName, namespace, ClusterDomain, InternalPort)
}

// BuildListenerCertificates returns the certificate resource's arguments.
func BuildListenerCertificates(s *config.Spec) *umbrellakafka.ListenerCertificatesArgs {
	names := pulumi.StringArray{}
	for _, n := range BrokerCertNames(s.Namespace) {
		names = append(names, pulumi.String(n))
	}
	return &umbrellakafka.ListenerCertificatesArgs{
		ServerCommonName:  pulumi.String(BrokerPrincipalName),
		ServerNames:       names,
		ClientCommonNames: pulumi.StringArray{pulumi.String(DeployerPrincipalName)},
		ValidityDays:      pulumi.IntPtr(s.Security.CertificateValidityDays),
		Rotation:          pulumi.IntPtr(s.Security.CertificateRotation),
	}
}

// BuildTLSSecret returns the brokers' TLS Secret: the PEM keystore (key, then
// certificate chain) and the CA, the two files server.properties names.
func BuildTLSSecret(s *config.Spec, keystore, ca pulumi.StringInput) *corev1.SecretArgs {
	return &corev1.SecretArgs{
		Metadata: meta(s, TLSSecretName, "broker"),
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			TLSKeystoreFile:   keystore,
			TLSTruststoreFile: ca,
		},
	}
}

// TLSChecksum is the pod annotation value that rolls the brokers when their
// certificate changes: a hash of the certificate, never of the key.
func TLSChecksum(cert pulumi.StringOutput) pulumi.StringOutput {
	return cert.ApplyT(func(pem string) string {
		sum := sha256.Sum256([]byte(pem))
		return hex.EncodeToString(sum[:])[:16]
	}).(pulumi.StringOutput)
}

// ServiceSecretName is the name of a service's credentials Secret in its
// namespace; kafka-<service>, since two services may share a namespace.
func ServiceSecretName(service string) string { return "kafka-" + service }

// ClientProperties is a Java client configuration for a service: what a
// service built on the Kafka Java client loads as is.
func ClientProperties(bootstrap, user, password string) string {
	quote := func(v string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) }
	return strings.Join([]string{
		"bootstrap.servers=" + bootstrap,
		"security.protocol=SASL_SSL",
		"sasl.mechanism=" + ScramMechanism,
		fmt.Sprintf(`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`,
			quote(user), quote(password)),
		"ssl.truststore.type=PEM",
		"ssl.truststore.location=" + CredentialsMountPath + "/" + SecretKeyCA,
		"",
	}, "\n")
}

// BuildServiceSecret returns a service's credentials Secret: everything a
// client needs to connect as the service, in its own namespace.
func BuildServiceSecret(s *config.Spec, svc config.Service, password, ca pulumi.StringOutput) *corev1.SecretArgs {
	bootstrap := BootstrapAddress(s.Namespace)
	labels := CommonLabels(s, "credentials")
	return &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(ServiceSecretName(svc.Name)),
			Namespace: pulumi.String(svc.Namespace),
			Labels:    strMap(labels),
		},
		Type: pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			SecretKeyUsername:  pulumi.String(svc.Name),
			SecretKeyPassword:  password,
			SecretKeyMechanism: pulumi.String(ScramMechanism),
			SecretKeyProtocol:  pulumi.String("SASL_SSL"),
			SecretKeyBootstrap: pulumi.String(bootstrap),
			SecretKeyCA:        ca,
			SecretKeyClientProperties: pulumi.ToSecret(password.ApplyT(func(p string) string {
				return ClientProperties(bootstrap, svc.Name, p)
			})).(pulumi.StringOutput),
		},
	}
}

// ACLResourceName is the stable Pulumi name of one ACL: the same rule always
// has the same name, so adding a service never renames another's ACLs.
func ACLResourceName(a config.ACL) string {
	name := strings.TrimPrefix(a.Principal, "User:")
	return strings.ToLower(fmt.Sprintf("acl-%s-%s-%s-%s-%s", name, a.Operation, a.ResourceType, a.PatternType, a.ResourceName))
}

// BuildACL returns one ALLOW rule's Acl arguments.
func BuildACL(a config.ACL) *umbrellakafka.AclArgs {
	return &umbrellakafka.AclArgs{
		AclPrincipal:              pulumi.String(a.Principal),
		AclHost:                   pulumi.String("*"),
		AclOperation:              pulumi.String(a.Operation),
		AclPermissionType:         pulumi.String("Allow"),
		AclResourceName:           pulumi.String(a.ResourceName),
		AclResourceType:           pulumi.String(a.ResourceType),
		ResourcePatternTypeFilter: pulumi.StringPtr(a.PatternType),
	}
}

// BuildScramUser returns a service's SCRAM user: a password the provider
// generates once and keeps as a secret in the state.
func BuildScramUser(svc config.Service) *umbrellakafka.UserScramCredentialArgs {
	return &umbrellakafka.UserScramCredentialArgs{
		Username:         pulumi.String(svc.Name),
		ScramMechanism:   pulumi.String(ScramMechanism),
		ScramIterations:  pulumi.IntPtr(ScramIterations),
		GeneratePassword: pulumi.BoolPtr(true),
	}
}

// Security is the secure mode's certificates: the ListenerCertificates
// resource and the brokers' TLS Secret.
type Security struct {
	pulumi.ResourceState
	// TLSSecret is the brokers' Secret; the StatefulSet depends on it.
	TLSSecret *corev1.Secret
	// TLSChecksum rolls the brokers when their certificate changes.
	TLSChecksum pulumi.StringOutput
	// ProviderTLS is what the Kafka admin provider connects with.
	ProviderTLS *ProviderTLS
	// CACert is the CA certificate every client trusts.
	CACert pulumi.StringOutput `pulumi:"caCert"`
	// NotAfter is when the leaf certificates expire (RFC 3339).
	NotAfter pulumi.StringOutput `pulumi:"certificatesNotAfter"`
}

// ProviderTLS is the Kafka admin provider's mTLS identity.
type ProviderTLS struct {
	CACert, ClientCert, ClientKey pulumi.StringOutput
}

// NewSecurity registers the certificates (through an umbrellakafka provider
// that never dials Kafka: the certificates exist before any broker does) and
// the brokers' TLS Secret.
func NewSecurity(ctx *pulumi.Context, name string, s *config.Spec, opts ...pulumi.ResourceOption) (*Security, error) {
	c := &Security{}
	if err := ctx.RegisterComponentResource(SecurityType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	pki, err := umbrellakafka.NewProvider(ctx, name+"-pki", &umbrellakafka.ProviderArgs{
		BootstrapServers: pulumi.StringArray{pulumi.String(InternalBootstrapAddress(s.Namespace))},
		TlsEnabled:       pulumi.Bool(true),
		Timeout:          pulumi.Int(KafkaAdminTimeoutSeconds),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("security %s: pki provider: %w", name, err)
	}
	certs, err := umbrellakafka.NewListenerCertificates(ctx, name+"-certificates", BuildListenerCertificates(s),
		parent, pulumi.Provider(pki))
	if err != nil {
		return nil, fmt.Errorf("security %s: certificates: %w", name, err)
	}
	secret, err := corev1.NewSecret(ctx, name+"-tls", BuildTLSSecret(s, certs.ServerKeystorePem, certs.CaCertPem), parent)
	if err != nil {
		return nil, fmt.Errorf("security %s: tls secret: %w", name, err)
	}
	deployer := certs.ClientCertificates.MapIndex(pulumi.String(DeployerPrincipalName))
	c.TLSSecret = secret
	c.TLSChecksum = TLSChecksum(certs.ServerCertPem)
	c.CACert = certs.CaCertPem
	c.NotAfter = certs.NotAfter
	c.ProviderTLS = &ProviderTLS{CACert: certs.CaCertPem, ClientCert: deployer.CertPem(), ClientKey: deployer.KeyPem()}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"caCert": c.CACert, "certificatesNotAfter": c.NotAfter})
}

// ServiceAccessArgs are the inputs of ServiceAccess.
type ServiceAccessArgs struct {
	Spec *config.Spec
	// Admin is the Kafka admin connection, connected as the deployer.
	Admin *KafkaAdmin
	// CACert goes into every credentials Secret.
	CACert pulumi.StringOutput
}

// ServiceAccess is every service's SCRAM user, ACLs and credentials Secret.
type ServiceAccess struct {
	pulumi.ResourceState
	// Users lists the services' user names.
	Users pulumi.StringArrayOutput `pulumi:"users"`
	// Of holds each service's user, ACLs and credentials Secret by service
	// name, for a workload that must start after them: depending on the
	// component alone waits only for the children registered so far.
	Of map[string][]pulumi.Resource
}

// NewServiceAccess registers one SCRAM user, its ACLs and its credentials
// Secret per service. The ACLs are registered in ServiceACLs' order with
// names from ACLResourceName, so adding a consumer in config adds exactly its
// rules and touches no other.
func NewServiceAccess(ctx *pulumi.Context, name string, args *ServiceAccessArgs, opts ...pulumi.ResourceOption) (*ServiceAccess, error) {
	s := args.Spec
	c := &ServiceAccess{Of: map[string][]pulumi.Resource{}}
	if err := ctx.RegisterComponentResource(ServiceAccessType, name, c, opts...); err != nil {
		return nil, err
	}
	parent, prov := pulumi.Parent(c), pulumi.Provider(args.Admin.Provider)
	acls, err := config.ServiceACLs(s.Services, s.Topics)
	if err != nil {
		return nil, fmt.Errorf("service access %s: %w", name, err)
	}
	for _, a := range acls {
		acl, err := umbrellakafka.NewAcl(ctx, ACLResourceName(a), BuildACL(a), parent, prov)
		if err != nil {
			return nil, fmt.Errorf("service access %s: acl %s: %w", name, a, err)
		}
		svc := strings.TrimPrefix(a.Principal, "User:")
		c.Of[svc] = append(c.Of[svc], acl)
	}
	users := pulumi.StringArray{}
	for _, svc := range s.Services {
		user, err := umbrellakafka.NewUserScramCredential(ctx, "user-"+svc.Name, BuildScramUser(svc), parent, prov)
		if err != nil {
			return nil, fmt.Errorf("service access %s: user %s: %w", name, svc.Name, err)
		}
		password := user.Password.Elem()
		secret, err := corev1.NewSecret(ctx, "credentials-"+svc.Name, BuildServiceSecret(s, svc, password, args.CACert), parent)
		if err != nil {
			return nil, fmt.Errorf("service access %s: secret %s: %w", name, svc.Name, err)
		}
		c.Of[svc.Name] = append(c.Of[svc.Name], user, secret)
		users = append(users, pulumi.String(svc.Name))
	}
	c.Users = users.ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"users": c.Users})
}
