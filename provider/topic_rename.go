package provider

import "fmt"

// renameProtected refuses, at preview, an allowed rename of a protected
// topic. The engine would create the new topic, then fail to delete the old
// one (Delete refuses with protectTopics) and retry that delete on every
// later update, so the rename could never finish.
func renameProtected(olds, news TopicArgs, allowReplace, protectTopics bool) error {
	if !allowReplace || !protectTopics || news.Name == "" || news.Name == olds.Name {
		return nil
	}
	return fmt.Errorf("topic %q: renaming it to %q creates %q and then deletes %q, but the provider sets "+
		"protectTopics = true, so the delete would be refused on this and every later update. Restore name = %q, "+
		"or set protectTopics to false for this update (umbrella-streaming stacks: topics.protect: false) to "+
		"accept deleting %q with its data", olds.Name, news.Name, news.Name, olds.Name, olds.Name, olds.Name)
}
