package config

// InventoryTopic is one platform topic from the seed plan's topic inventory: who
// writes it, who reads it and what its messages are keyed by. Partition and
// replication counts are not here; they come from the stack config.
type InventoryTopic struct {
	Name      string
	Key       string
	Producers string
	Consumers string
}

// Inventory is the single source of the platform topics (seed plan, section 1), in
// the seed's order. create-topics.sh, the topic Job and the topic provider resources
// are all derived from it; tests/scripts_test.go (TestCreateTopicsScriptListsTheInventory)
// checks the shell script agrees.
var Inventory = []InventoryTopic{
	{Name: "raw-messages", Key: "raw_message_id", Producers: "Connectors (via KafkaProducerWrapper)", Consumers: "EmailProcessor"},
	{Name: "parsed-messages", Key: "raw_message_id", Producers: "EmailProcessor", Consumers: "IngestionService"},
	{Name: "normalized-messages", Key: "message_id", Producers: "IngestionService", Consumers: "Processing services (NLP, transcription, translation)"},
	{Name: "processing-results", Key: "message_id", Producers: "Processing services", Consumers: "Elasticsearch indexer"},
	{Name: "alerts", Key: "message_id", Producers: "NLP service", Consumers: "Elasticsearch indexer, UI backend"},
	{Name: "dead-letter", Key: "raw_message_id", Producers: "Connector framework (DeadLetterHandler)", Consumers: "Ops / manual reprocessing"},
	{Name: "normalized-messages-dlq", Key: "message_id", Producers: "IngestionService (future)", Consumers: "Ops / manual reprocessing"},
}
