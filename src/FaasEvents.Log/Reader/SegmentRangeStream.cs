using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FaasEvents.Log.Reader;

/// <summary>
/// A segment's bytes from a position to its current end, fetched as consecutive ranges of at most a fixed size (one
/// Get Blob each) and read as one forward-only stream. The end is the first range that comes back short or empty (or
/// 416). A segment deleted between two ranges (retention, compaction) ends the stream with <see cref="Vanished"/> set.
/// </summary>
internal sealed class SegmentRangeStream : Stream
{
    private readonly BlobClient blob;
    private readonly int rangeBytes;
    private Stream? current;
    private long position;
    private long currentEnd; // where the current range was asked to end
    private bool ended;

    private SegmentRangeStream(BlobClient blob, long position, int rangeBytes)
    {
        this.blob = blob;
        this.position = position;
        this.rangeBytes = rangeBytes;
    }

    /// <summary>True when the segment was gone (404) when the next range was fetched.</summary>
    public bool Vanished { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => position;
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Fetches the first range. Storage errors of that first request surface to the caller as they are (416: nothing at
    /// <paramref name="position"/>; 404: no such segment).
    /// </summary>
    public static async Task<SegmentRangeStream> OpenAsync(BlobClient blob, long position, int rangeBytes, CancellationToken cancellationToken)
    {
        var stream = new SegmentRangeStream(blob, position, rangeBytes);
        await stream.FetchAsync(cancellationToken);
        return stream;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!ended && buffer.Length > 0)
        {
            int read = current is null ? 0 : await current.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                position += read;
                return read;
            }

            if (position < currentEnd)
            {
                ended = true; // the range came back short: that was the segment's end
                break;
            }

            try
            {
                await FetchAsync(cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 416)
            {
                ended = true; // nothing past the previous range
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                Vanished = true;
                ended = true;
            }
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (current is not null)
        {
            await current.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            current?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        if (current is not null)
        {
            await current.DisposeAsync();
            current = null;
        }

        BlobDownloadStreamingResult result = (await blob.DownloadStreamingAsync(
            new BlobDownloadOptions { Range = new HttpRange(position, rangeBytes) }, cancellationToken)).Value;
        current = result.Content;
        currentEnd = position + rangeBytes;
    }
}
