// Package plan groups texts into batches whose padded shapes a backend can run.
//
// Every backend shares this planner: texts are sorted by token length, cut into batches that
// fit the backend's allowed (batch, sequence) shapes, and padded only to the shape chosen for
// their batch, never to the model's maximum.
package plan

// Shape is a padded tensor shape (Batch rows of Seq tokens).
type Shape struct {
	Batch int
	Seq   int
}

// Tokens is the number of token slots in the shape.
func (s Shape) Tokens() int { return s.Batch * s.Seq }

// ShapeSet tells which padded shapes a backend accepts.
type ShapeSet interface {
	// Fit returns the smallest allowed shape (fewest token slots) with at least rows rows
	// and seq columns, and false if no allowed shape is that large.
	Fit(rows, seq int) (Shape, bool)
	// MaxBatch is the largest batch any allowed shape has.
	MaxBatch() int
	// MaxSeq is the longest sequence any allowed shape has.
	MaxSeq() int
}
