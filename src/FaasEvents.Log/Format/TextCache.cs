namespace FaasEvents.Log.Format;

/// <summary>
/// Texts that repeat from event to event of one batch (source, type, content type, subject, schema): each slot keeps
/// the last bytes it decoded and their string, so a run of events with the same value shares one string instead of
/// decoding one per event.
/// </summary>
internal sealed class TextCache
{
    private readonly Slot[] slots = [new(), new(), new(), new(), new()];

    /// <summary>The string of <paramref name="bytes"/> (UTF-8) in slot <paramref name="slot"/> (0-4).</summary>
    public string Get(int slot, ReadOnlySpan<byte> bytes)
    {
        Slot s = slots[slot];
        if (s.Text is null || !bytes.SequenceEqual(s.Bytes))
        {
            s.Text = EventCodec.Utf8.GetString(bytes); // throws for invalid UTF-8 before anything is kept
            s.Bytes = bytes.ToArray();
        }

        return s.Text;
    }

    private sealed class Slot
    {
        public byte[] Bytes { get; set; } = [];

        public string? Text { get; set; }
    }
}
