using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using FaasEvents.Log.Events;

namespace FaasEvents.Log.Format;

/// <summary>
/// Encodes one event into a record body and back. Every attribute value is stored in its CloudEvents
/// canonical string form (UTF-8) with a type byte, so a reader in any language can decode it.
/// </summary>
internal static class EventCodec
{
    private const byte FlagKey = 1;
    private const byte FlagData = 2;
    internal static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="e"/>. Throws <see cref="EventLogException"/> for invalid or oversize events.</summary>
    public static byte[] EncodeBody(LogEvent e, long timestamp)
    {
        Prepared prepared = Prepare(e);
        byte[] body = new byte[prepared.Size];
        Write(e, timestamp, prepared, body);
        return body;
    }

    /// <summary>
    /// The encoded size of <paramref name="e"/> in bytes, without encoding it or checking the limit. Throws
    /// <see cref="EventLogException"/> for an event that cannot be encoded at all.
    /// </summary>
    public static long Measure(LogEvent e)
    {
        try
        {
            (string Name, AttributeType Type, string Value)[] attributes = Attributes(e, out int count);
            return Size(e, attributes, count, out _);
        }
        catch (EncoderFallbackException ex)
        {
            throw InvalidText(e, ex);
        }
    }

    private static EventLogException InvalidText(LogEvent e, EncoderFallbackException ex) =>
        new(EventLogErrorReason.InvalidArgument, $"Invalid event: a text attribute, key or extension of event '{e.Id}' holds invalid UTF-16 (an unpaired surrogate).", ex);

    private static (string Name, AttributeType Type, string Value)[] Attributes(LogEvent e, out int count)
    {
        int extensionCount = e.ExtensionCount;
        var attributes = new (string Name, AttributeType Type, string Value)[8 + extensionCount];
        count = 0;
        attributes[count++] = ("specversion", AttributeType.String, LogEvent.CloudEventsSpecVersion);
        attributes[count++] = ("id", AttributeType.String, e.Id);
        attributes[count++] = ("source", AttributeType.UriReference, e.Source);
        attributes[count++] = ("type", AttributeType.String, e.Type);
        if (e.Time is { } time)
        {
            attributes[count++] = ("time", AttributeType.Timestamp, FormatTimestamp(time));
        }

        if (e.Subject is not null)
        {
            attributes[count++] = ("subject", AttributeType.String, e.Subject);
        }

        if (e.DataContentType is not null)
        {
            attributes[count++] = ("datacontenttype", AttributeType.String, e.DataContentType);
        }

        if (e.DataSchema is not null)
        {
            attributes[count++] = ("dataschema", AttributeType.Uri, e.DataSchema);
        }

        if (extensionCount > 0)
        {
            foreach (KeyValuePair<string, object> ext in e.Extensions.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                (AttributeType type, string value) = ToCanonical(ext.Key, ext.Value);
                attributes[count++] = (ext.Key, type, value);
            }
        }

        return attributes;
    }

    private static long Size(LogEvent e, (string Name, AttributeType Type, string Value)[] attributes, int count, out int keyBytes)
    {
        keyBytes = e.PartitionKey is null ? 0 : Utf8.GetByteCount(e.PartitionKey);
        long size = 9 + (e.PartitionKey is null ? 0 : 2 + keyBytes) + 2 + (e.Data is null ? 0 : 4 + (e.Data.ToMemory().Length));
        for (int i = 0; i < count; i++)
        {
            size += 6 + attributes[i].Name.Length + Utf8.GetByteCount(attributes[i].Value);
        }

        return size;
    }

    /// <summary>
    /// Encodes <paramref name="events"/> (all with one timestamp) into one array, one slice per event: a call's events
    /// wait for their append together, and one large array is not copied from generation to generation by the GC while
    /// they wait, as thousands of small ones are. The array (<paramref name="block"/>) comes from
    /// <see cref="ArrayPool{T}.Shared"/>: a call's array is often megabytes, and a fresh large-object array per call cost
    /// the producer a tenth of its CPU; the caller may return it once nothing reads the bodies. Throws like
    /// <see cref="EncodeBody"/> before returning anything.
    /// </summary>
    public static ReadOnlyMemory<byte>[] EncodeBodies(IReadOnlyList<LogEvent> events, long timestamp, out byte[] block)
    {
        var prepared = new Prepared[events.Count];
        long total = 0;
        for (int i = 0; i < events.Count; i++)
        {
            prepared[i] = Prepare(events[i]);
            total += prepared[i].Size;
        }

        block = ArrayPool<byte>.Shared.Rent(checked((int)total));
        var bodies = new ReadOnlyMemory<byte>[events.Count];
        int at = 0;
        for (int i = 0; i < events.Count; i++)
        {
            int size = (int)prepared[i].Size;
            Write(events[i], timestamp, prepared[i], block.AsSpan(at, size));
            bodies[i] = new ReadOnlyMemory<byte>(block, at, size);
            at += size;
        }

        return bodies;
    }

    /// <summary>
    /// Checks <paramref name="e"/> and works out its attributes and encoded size (one exact allocation follows). Every
    /// text is measured here, so invalid UTF-16 is refused here and <see cref="Write"/> cannot meet it.
    /// </summary>
    private static Prepared Prepare(LogEvent e)
    {
        Validate(e);
        (string Name, AttributeType Type, string Value)[] attributes;
        int count, keyBytes;
        long size;
        try
        {
            attributes = Attributes(e, out count);
            size = Size(e, attributes, count, out keyBytes);
        }
        catch (EncoderFallbackException ex)
        {
            throw InvalidText(e, ex);
        }

        if (keyBytes > ushort.MaxValue)
        {
            throw Invalid($"partition key is {keyBytes} bytes; the limit is {ushort.MaxValue}");
        }

        if (size > LogEvent.MaxEncodedSize)
        {
            throw new EventLogException(
                EventLogErrorReason.EventTooLarge,
                $"Event '{e.Id}' is {size:N0} bytes encoded; the limit is {LogEvent.MaxEncodedSize:N0} bytes (1 MiB). Nothing was written.");
        }

        return new Prepared(attributes, count, size, keyBytes);
    }

    private static void Write(LogEvent e, long timestamp, Prepared prepared, Span<byte> span)
    {
        ReadOnlyMemory<byte> data = e.Data?.ToMemory() ?? default;
        BinaryPrimitives.WriteInt64LittleEndian(span, timestamp);
        span[8] = (byte)((e.PartitionKey is null ? 0 : FlagKey) | (e.Data is null ? 0 : FlagData));
        int pos = 9;
        if (e.PartitionKey is not null)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[pos..], (ushort)prepared.KeyBytes);
            pos += 2 + Utf8.GetBytes(e.PartitionKey, span[(pos + 2)..]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[pos..], checked((ushort)prepared.Count));
        pos += 2;
        for (int i = 0; i < prepared.Count; i++)
        {
            (string name, AttributeType type, string value) = prepared.Attributes[i];
            span[pos] = (byte)name.Length;
            pos += 1 + Encoding.ASCII.GetBytes(name, span[(pos + 1)..]);
            span[pos] = (byte)type;
            int written = Utf8.GetBytes(value, span[(pos + 5)..]);
            BinaryPrimitives.WriteInt32LittleEndian(span[(pos + 1)..], written);
            pos += 5 + written;
        }

        if (e.Data is not null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[pos..], data.Length);
            data.Span.CopyTo(span[(pos + 4)..]);
        }
    }

    /// <summary>
    /// Decodes one record body. Attribute names are matched as bytes, and texts that repeat across a batch (source, type,
    /// content type, subject, schema) come from <paramref name="texts"/> when given: a decoded event allocates little
    /// more than its id, key and data.
    /// </summary>
    public static (long Timestamp, LogEvent Event) DecodeBody(ReadOnlySpan<byte> body, TextCache? texts = null)
    {
        var r = new SpanReader(body);
        long timestamp = r.Int64();
        byte flags = r.Byte();
        string? key = (flags & FlagKey) != 0 ? r.Utf8(r.UInt16()) : null;
        int count = r.UInt16();
        string? id = null, source = null, type = null, subject = null, contentType = null, schema = null;
        DateTimeOffset? time = null;
        List<(string Name, AttributeType Type, string Value)>? extensions = null;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> name = r.Bytes(r.Byte());
            var attrType = (AttributeType)r.Byte();
            ReadOnlySpan<byte> value = r.Bytes(r.Int32());
            if (name.SequenceEqual("id"u8))
            {
                id = Utf8.GetString(value);
            }
            else if (name.SequenceEqual("source"u8))
            {
                source = Text(texts, 0, value);
            }
            else if (name.SequenceEqual("type"u8))
            {
                type = Text(texts, 1, value);
            }
            else if (name.SequenceEqual("specversion"u8))
            {
                if (!value.SequenceEqual("1.0"u8))
                {
                    throw new FormatException($"unsupported CloudEvents specversion '{Utf8.GetString(value)}'");
                }
            }
            else if (name.SequenceEqual("time"u8))
            {
                time = ParseTimestamp(value);
            }
            else if (name.SequenceEqual("datacontenttype"u8))
            {
                contentType = Text(texts, 2, value);
            }
            else if (name.SequenceEqual("subject"u8))
            {
                subject = Text(texts, 3, value);
            }
            else if (name.SequenceEqual("dataschema"u8))
            {
                schema = Text(texts, 4, value);
            }
            else
            {
                (extensions ??= []).Add((Encoding.ASCII.GetString(name), attrType, Utf8.GetString(value)));
            }
        }

        BinaryData? data = (flags & FlagData) != 0 ? new BinaryData(r.Bytes(r.Int32()).ToArray()) : null;
        if (!r.AtEnd)
        {
            throw new FormatException("unexpected bytes after the event data");
        }

        var e = new LogEvent(
            id ?? throw new FormatException("event has no 'id' attribute"),
            source ?? throw new FormatException("event has no 'source' attribute"),
            type ?? throw new FormatException("event has no 'type' attribute"))
        {
            PartitionKey = key,
            Data = data,
            Time = time,
            Subject = subject,
            DataContentType = contentType,
            DataSchema = schema,
        };
        if (extensions is not null)
        {
            foreach ((string name, AttributeType attrType, string value) in extensions)
            {
                e.Extensions[name] = FromCanonical(attrType, value);
            }
        }

        return (timestamp, e);
    }

    private static string Text(TextCache? texts, int slot, ReadOnlySpan<byte> value) =>
        texts is null ? Utf8.GetString(value) : texts.Get(slot, value);

    /// <summary>Parses a canonical timestamp stored as UTF-8 without making a string of it.</summary>
    private static DateTimeOffset ParseTimestamp(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = utf8.Length <= 64 ? stackalloc char[64] : new char[utf8.Length];
        int length = Utf8.GetChars(utf8, chars);
        return ParseTimestamp(chars[..length]);
    }

    /// <summary>Checks required attributes and extension names and types.</summary>
    public static void Validate(LogEvent e)
    {
        if (string.IsNullOrEmpty(e.Id))
        {
            throw Invalid("the 'id' attribute is required and must be non-empty");
        }

        if (string.IsNullOrEmpty(e.Source))
        {
            throw Invalid($"event '{e.Id}': the 'source' attribute is required and must be non-empty");
        }

        if (string.IsNullOrEmpty(e.Type))
        {
            throw Invalid($"event '{e.Id}': the 'type' attribute is required and must be non-empty");
        }

        if (e.ExtensionCount == 0)
        {
            return; // most events: no enumerator allocated per event
        }

        foreach (string name in e.Extensions.Keys)
        {
            if (!IsValidAttributeName(name))
            {
                throw Invalid($"event '{e.Id}': extension attribute name '{name}' must be 1-20 lower-case letters or digits (CloudEvents 1.0)");
            }

            if (name is "specversion" or "id" or "source" or "type" or "time" or "subject" or "datacontenttype" or "dataschema" or "data" or "data_base64")
            {
                throw Invalid($"event '{e.Id}': '{name}' is a CloudEvents context attribute, not an extension; set the property instead");
            }

            if (name == "partitionkey")
            {
                throw Invalid($"event '{e.Id}': the 'partitionkey' extension is the event's PartitionKey; set that property instead");
            }
        }
    }

    public static bool IsValidAttributeName(string name) =>
        name.Length is > 0 and <= 20 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));

    public static string FormatTimestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTimestamp(string value) => ParseTimestamp(value.AsSpan());

    private static DateTimeOffset ParseTimestamp(ReadOnlySpan<char> value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal);

    private static (AttributeType, string) ToCanonical(string name, object value) => value switch
    {
        string s => (AttributeType.String, s),
        bool b => (AttributeType.Boolean, b ? "true" : "false"),
        int i => (AttributeType.Integer, i.ToString(CultureInfo.InvariantCulture)),
        byte[] bytes => (AttributeType.Binary, Convert.ToBase64String(bytes)),
        Uri { IsAbsoluteUri: true } u => (AttributeType.Uri, u.OriginalString),
        Uri u => (AttributeType.UriReference, u.OriginalString),
        DateTimeOffset t => (AttributeType.Timestamp, FormatTimestamp(t)),
        _ => throw Invalid($"extension attribute '{name}' has type {value.GetType().Name}; CloudEvents allows string, bool, int, byte[], Uri and DateTimeOffset"),
    };

    private static object FromCanonical(AttributeType type, string value) => type switch
    {
        AttributeType.Boolean => value == "true",
        AttributeType.Integer => int.Parse(value, CultureInfo.InvariantCulture),
        AttributeType.Binary => Convert.FromBase64String(value),
        AttributeType.Uri => new Uri(value, UriKind.Absolute),
        AttributeType.UriReference => new Uri(value, UriKind.RelativeOrAbsolute),
        AttributeType.Timestamp => ParseTimestamp(value),
        AttributeType.String => value,
        _ => throw new FormatException($"unknown attribute type {(byte)type}"),
    };

    private static EventLogException Invalid(string message) => new(EventLogErrorReason.InvalidArgument, "Invalid event: " + message + ".");

    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> span = span;
        private int pos;

        public readonly bool AtEnd => pos == span.Length;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count < 0 || pos + count > span.Length)
            {
                throw new FormatException($"field of {count} bytes at {pos} runs past the end of the record ({span.Length} bytes)");
            }

            ReadOnlySpan<byte> s = span.Slice(pos, count);
            pos += count;
            return s;
        }

        public byte Byte() => Bytes(1)[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        public string Utf8(int count) => EventCodec.Utf8.GetString(Bytes(count));
    }

    /// <summary>An event's attributes and encoded size, worked out before it is written.</summary>
    private readonly record struct Prepared((string Name, AttributeType Type, string Value)[] Attributes, int Count, long Size, int KeyBytes);
}
