package provider

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Check validates the inputs with Kafka's rules before anything is written.
// Values unknown during a preview are left for the next check.
func (UserScramCredential) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[UserScramCredentialArgs], error,
) {
	args, failures, err := infer.DefaultCheck[UserScramCredentialArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[UserScramCredentialArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return !ok || !v.IsComputed()
	}
	if args.ScramIterations == nil && known("scramIterations") {
		n := ScramDefaultIterations
		args.ScramIterations = &n
	}
	fail := func(prop, msg string) {
		if msg != "" {
			failures = append(failures, p.CheckFailure{Property: prop, Reason: msg})
		}
	}
	if known("username") {
		fail("username", validateScramUsername(args.Username))
	}
	if known("scramMechanism") {
		fail("scramMechanism", validateScramMechanism(args.ScramMechanism))
	}
	if known("scramIterations") {
		fail("scramIterations", validateScramIterations(deref(args.ScramIterations)))
	}
	if known("password") && known("passwordWo") && known("generatePassword") {
		prop, msg := validateScramPasswords(args.Password, args.PasswordWo, deref(args.GeneratePassword))
		fail(prop, msg)
	}
	return infer.CheckResponse[UserScramCredentialArgs]{Inputs: args, Failures: failures}, nil
}

func validateScramUsername(name string) string {
	if strings.TrimSpace(name) == "" {
		return rules.Message("username", name, "is empty: Kafka refuses a SCRAM credential without a user name",
			"set username to the user clients log in as, e.g. \"orders-service\"")
	}
	return ""
}

func validateScramMechanism(m string) string {
	switch m {
	case ScramSHA256, ScramSHA512:
		return ""
	}
	fix := fmt.Sprintf("use %s or %s", ScramSHA256, ScramSHA512)
	if up := strings.ToUpper(m); up == ScramSHA256 || up == ScramSHA512 {
		fix = fmt.Sprintf("write it in capitals: %s", up)
	}
	return rules.Message("scramMechanism", m, fmt.Sprintf("is not a SCRAM mechanism Kafka stores credentials for (%s, %s)",
		ScramSHA256, ScramSHA512), fix)
}

func validateScramIterations(n int) string {
	switch {
	case n < ScramMinIterations:
		return rules.Message("scramIterations", n, fmt.Sprintf("is below Kafka's minimum of %d", ScramMinIterations),
			fmt.Sprintf("set it between %d and %d, or leave it unset for %d", ScramMinIterations, ScramMaxIterations, ScramDefaultIterations))
	case n > ScramMaxIterations:
		return rules.Message("scramIterations", n, fmt.Sprintf("exceeds Kafka's maximum of %d", ScramMaxIterations),
			fmt.Sprintf("set it between %d and %d", ScramMinIterations, ScramMaxIterations))
	}
	return ""
}

// validateScramPasswords requires exactly one source of the password (a
// non-blank password or passwordWo, or generate), and never puts a password
// value into the message.
func validateScramPasswords(password, passwordWo *string, generate bool) (prop, msg string) {
	blank := func(s *string) bool { return s != nil && strings.TrimSpace(*s) == "" }
	switch {
	case generate && password != nil:
		return "generatePassword", "generatePassword is true and password is set: the provider would not know which " +
			"password to write; remove password to let the provider generate one, or remove generatePassword to keep yours"
	case generate && passwordWo != nil:
		return "generatePassword", "generatePassword is true and passwordWo is set: the provider would not know which " +
			"password to write; remove passwordWo to let the provider generate one, or remove generatePassword to keep yours"
	case generate:
		return "", ""
	case password != nil && passwordWo != nil:
		return "passwordWo", "password and passwordWo are both set: set exactly one of them (passwordWo keeps the " +
			"password out of the outputs; change passwordWoVersion with it)"
	case password == nil && passwordWo == nil:
		return "password", "none of password, passwordWo and generatePassword is set: a SCRAM credential needs a " +
			"password; set password or passwordWo from a secret (e.g. pulumi config set --secret <key> <password>), " +
			"or generatePassword: true to have the provider generate one"
	case blank(password):
		return "password", "password is empty or only spaces: set a real password (from a secret)"
	case blank(passwordWo):
		return "passwordWo", "passwordWo is empty or only spaces: set a real password (from a secret)"
	}
	return "", ""
}
