// Package monitoring proves the program's monitoring against the real tools
// instead of reading it back: the PrometheusRule groups (components.RuleGroups)
// pass `promtool check rules` and per-alert `promtool test rules` cases (each
// alert fires when it should and stays quiet when it should not), and the JMX
// exporter rules (components.ExporterRulesYAML), attached as a java agent to a
// real Kafka 4.1.1 broker (package localkafka) and scraped by a real
// Prometheus, produce the series every alert and dashboard query reads. The
// lag exporter (cmd/kafka-lag-exporter, built from this tree) runs against a
// real broker too: its series fire the lag alert for a group that stopped,
// not for one that lags with its member, and fill the dashboard's lag panel.
//
// The tests are behind the monitoring build tag and need promtool and
// prometheus (Debian: apt-get install -y prometheus), the Kafka jars and the
// JMX exporter agent:
//
//	scripts/tools.sh kafka jmx-exporter
//	go test -tags monitoring ./tests/monitoring/
//
// Without them they fail (not skip), naming what to install.
package monitoring
