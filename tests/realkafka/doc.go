// Package realkafka holds the tests that run the program's Kafka configuration
// on real Apache Kafka 4.1.1 brokers (package localkafka): the dev and prod
// broker configs start and form a quorum, create-topics.sh is idempotent,
// acks=all writes survive a broker crash, compression.type=producer keeps
// the producer's codec, and a static min.insync.replicas change is ignored
// once the cluster has bootstrapped (a Kafka 4.1 behaviour to plan for),
// and, through the real Pulumi engine with the provider plugin built from
// this tree, UserScramCredential passwords from secret config log in over
// SASL_SSL, rotate, and never appear in clear in the state or the output.
// The prod stack ships secure (security.mode sasl-scram): its nodes run
// only the CLIENT (SASL_SSL), INTERNAL and CONTROLLER (mTLS) listeners, and
// security_test.go proves each service's least-privilege ACLs, the refused
// connections, replication over INTERNAL and a certificate rotation under
// load (the other tests reach that cluster as the deployer, a super user).
//
// They are behind the realkafka build tag and need the Kafka jars:
//
//	scripts/tools.sh kafka
//	go test -tags realkafka ./tests/realkafka/
//
// Without the jars they fail (not skip), naming the command that builds them.
package realkafka
