package kafkaadmin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// MetadataVersionFeature versions the cluster's metadata log: what records
// the controllers may write. Raising it is how a software upgrade is
// finalised; Kafka lowers it only where no metadata change lies between.
const MetadataVersionFeature = "metadata.version"

// FeatureRange is the range of levels of one feature a node's software
// supports.
type FeatureRange struct{ Min, Max int16 }

// Features is a cluster's feature state as each of its brokers reports it
// (ApiVersions): what is finalized, and what each broker's software supports.
type Features struct {
	// Finalized are the finalized levels, by feature name, as the broker with
	// the newest finalized epoch reports them.
	Finalized map[string]int16
	// Epoch is that broker's finalized-features epoch.
	Epoch int64
	// Supported is, by broker id, each feature's supported range.
	Supported map[int32]map[string]FeatureRange
}

// Brokers are the broker ids that answered, in order.
func (f Features) Brokers() []int32 {
	ids := make([]int32, 0, len(f.Supported))
	for id := range f.Supported {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SupportedByAll is the range of levels of feature every broker supports:
// the highest minimum and the lowest maximum. Without, are the brokers whose
// software does not know the feature at all.
func (f Features) SupportedByAll(feature string) (r FeatureRange, without []int32) {
	first := true
	for _, id := range f.Brokers() {
		s, ok := f.Supported[id][feature]
		if !ok {
			without = append(without, id)
			continue
		}
		if first || s.Min > r.Min {
			r.Min = s.Min
		}
		if first || s.Max < r.Max {
			r.Max = s.Max
		}
		first = false
	}
	return r, without
}

// Below lists the brokers whose software supports feature only below level,
// as "broker 2 (up to 27)".
func (f Features) Below(feature string, level int16) []string {
	var out []string
	for _, id := range f.Brokers() {
		if s, ok := f.Supported[id][feature]; !ok || s.Max < level {
			out = append(out, fmt.Sprintf("broker %d (up to %d)", id, s.Max))
		}
	}
	return out
}

// DescribeFeatures asks every broker for its supported and finalized
// features. Every broker must answer: a feature change is judged on all of
// them.
func (k *Client) DescribeFeatures(ctx context.Context) (Features, error) {
	ids, err := k.BrokerIDs(ctx)
	if err != nil {
		return Features{}, fmt.Errorf("describing features: %w", err)
	}
	f := Features{Finalized: map[string]int16{}, Epoch: -1, Supported: map[int32]map[string]FeatureRange{}}
	for _, id := range ids {
		resp, err := k.apiVersionsOn(ctx, k.Broker(id))
		if err != nil {
			return Features{}, fmt.Errorf("describing features: broker %d: %w", id, err)
		}
		sup := map[string]FeatureRange{}
		for _, s := range resp.SupportedFeatures {
			sup[s.Name] = FeatureRange{Min: s.MinVersion, Max: s.MaxVersion}
		}
		f.Supported[id] = sup
		if resp.FinalizedFeaturesEpoch > f.Epoch {
			f.Epoch = resp.FinalizedFeaturesEpoch
			clear(f.Finalized)
			for _, fin := range resp.FinalizedFeatures {
				f.Finalized[fin.Name] = fin.MaxVersionLevel
			}
		}
	}
	return f, nil
}

// apiVersionsOn is one ApiVersions round trip to r.
func (k *Client) apiVersionsOn(ctx context.Context, r kmsg.Requestor) (*kmsg.ApiVersionsResponse, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "umbrellakafka", "1"
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("ApiVersions request failed: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("ApiVersions: %w", err)
	}
	return resp, nil
}

// Feature update types (UpdateFeatures v1).
const (
	upgradeOnly   int8 = 1
	safeDowngrade int8 = 2
)

// SetFeature asks the controller to finalize feature at level: an upgrade,
// or a safe (lossless) downgrade when level is lower than finalized. Kafka
// itself judges it against every broker's and controller's supported range
// and, for a downgrade, whether metadata changes lie between the levels;
// its refusal comes back as the error, with its message. With validateOnly
// Kafka only judges (a preview); otherwise SetFeature waits until every
// broker shows the new level.
func (k *Client) SetFeature(ctx context.Context, feature string, level, finalized int16, validateOnly bool) error {
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	req.ValidateOnly = validateOnly
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = feature, level, upgradeOnly
	if level < finalized {
		u.UpgradeType = safeDowngrade
	}
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	what := fmt.Sprintf("%s %d -> %d", feature, finalized, level)
	if err := k.sendFeatureUpdate(ctx, req); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if validateOnly {
		return nil
	}
	last := ""
	err := Poll(ctx, k.timeout, "waiting for every broker to show "+feature+" "+fmt.Sprint(level), func(ctx context.Context) (bool, error) {
		ids, err := k.BrokerIDs(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, id := range ids {
			resp, err := k.apiVersionsOn(ctx, k.Broker(id))
			if err != nil || finalizedLevel(resp, feature) != level {
				last = fmt.Sprintf("broker %d does not show it yet", id)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w; last, %s", what, err, last)
	}
	return nil
}

// finalizedLevel is feature's finalized level in an ApiVersions response, 0
// when it is not finalized.
func finalizedLevel(resp *kmsg.ApiVersionsResponse, feature string) int16 {
	for _, f := range resp.FinalizedFeatures {
		if f.Name == feature {
			return f.MaxVersionLevel
		}
	}
	return 0
}

// sendFeatureUpdate sends req and turns a refusal, top-level or for the
// feature, into an error carrying Kafka's message.
func (k *Client) sendFeatureUpdate(ctx context.Context, req *kmsg.UpdateFeaturesRequest) error {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(ctx, k.raw)
	if err != nil {
		return fmt.Errorf("UpdateFeatures request failed: %w", err)
	}
	refusal := func(code int16, msg *string) error {
		err := kerr.ErrorForCode(code)
		if err == nil {
			return nil
		}
		if msg != nil && strings.TrimSpace(*msg) != "" {
			return fmt.Errorf("Kafka refused it: %s (%w)", *msg, err)
		}
		return fmt.Errorf("Kafka refused it: %w", err)
	}
	if err := refusal(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return err
	}
	for _, r := range resp.Results {
		if err := refusal(r.ErrorCode, r.ErrorMessage); err != nil {
			return err
		}
	}
	return nil
}
