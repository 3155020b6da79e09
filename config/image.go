package config

import (
	"fmt"
	"strings"
)

// mutableTag returns how ref can come to name a different image under the same
// name, or "" when it is pinned: no tag at all (the registry serves latest) or
// the tag latest. A digest (@sha256:…) pins an image whatever its tag. Other
// tags can be moved too, but a version tag moved by hand is a release
// process's choice; latest is moved by every push.
func mutableTag(ref string) string {
	if strings.Contains(ref, "@") {
		return ""
	}
	name := ref[strings.LastIndex(ref, "/")+1:] // a registry's :port is before the last '/'
	_, tag, tagged := strings.Cut(name, ":")
	switch {
	case !tagged:
		return "has no tag, so it means latest"
	case tag == "latest":
		return "has the tag latest"
	}
	return ""
}

// checkPinned refuses a mutable image reference (mutableTag) in any stack,
// dev included: each node pulls the tag when a pod starts there, so the
// brokers of one cluster can end up on different builds, a restart can
// upgrade a broker nobody meant to upgrade, and since the stack's text does
// not change, `pulumi preview` shows nothing and cannot roll it back. A dev
// stack that runs what prod runs is the point of having one; the shipped
// stacks and scripts all use version tags.
func checkPinned(p *problems, field, ref string) {
	if why := mutableTag(ref); why != "" {
		p.add(field, ref, fmt.Sprintf("%s, which every push moves: each pod start pulls whatever it names then, so brokers drift apart "+
			"and a change behind the tag is neither shown by preview nor undone by rolling the stack back", why),
			"pin a version tag such as "+DefaultImage+", or a digest (@sha256:…)")
	}
}
