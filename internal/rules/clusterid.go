package rules

import (
	"encoding/base64"
	"regexp"
)

// ImageDefaultClusterID is the KRaft cluster id the apache/kafka image falls back
// to when CLUSTER_ID is unset (its configureDefaults). Our image does the same
// for a laptop's compose file; the stack config refuses it, because every
// cluster that forgot to set an id would share it.
const ImageDefaultClusterID = "5L6g3nShT-eMCtK--X86sw"

// ClusterIDProblem is the limit every cluster-id message states.
const ClusterIDProblem = "not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero)"

// ClusterIDFix is the fix every cluster-id message prints.
const ClusterIDFix = "generate one with `kafka-storage.sh random-uuid`"

var clusterIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// ValidClusterID reports whether id is a Kafka Uuid as kafka-storage.sh format
// accepts it: 22 characters of unpadded base64url encoding 16 bytes, and not
// the all-zero uuid Kafka reserves.
func ValidClusterID(id string) bool {
	if !clusterIDRE.MatchString(id) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return false
	}
	for _, x := range b {
		if x != 0 {
			return true
		}
	}
	return false
}
