// Manage Kafka topics (Kafka 4.x, KRaft) with a native provider.
package umbrellakafka
