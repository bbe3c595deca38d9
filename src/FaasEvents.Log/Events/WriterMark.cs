namespace FaasEvents.Log.Events;

/// <summary>
/// Who wrote an event and which of its writes it is (docs/storage-format.md, "Exactly-once writes"): readers deliver each
/// (writer, sequence) of a partition at most once, and a writer's sequences in increasing order.
/// </summary>
/// <param name="Writer">The writer id (e.g. <see cref="Producer.WriterIdentity.For"/>, or a producer's stable <see cref="Producer.EventProducerOptions.ProducerId"/>).</param>
/// <param name="Sequence">The write's sequence within the writer (non-negative; a repeat of a written sequence is a duplicate).</param>
public readonly record struct WriterMark(Guid Writer, long Sequence);
