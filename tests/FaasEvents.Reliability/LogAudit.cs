using FaasEvents.Log;

namespace FaasEvents.Reliability;

/// <summary>Reads a whole stream and checks its offsets: every offset held by exactly one event, contiguous per partition.</summary>
public static class LogAudit
{
    /// <summary>Every event of every partition, in partition then offset order.</summary>
    public static async Task<List<StoredEvent>> ReadAllAsync(EventLogClient log, string stream, CancellationToken cancellationToken = default)
    {
        StreamDefinition def = await log.GetStreamAsync(stream, cancellationToken);
        var all = new List<StoredEvent>();
        for (int p = 0; p < def.Partitions; p++)
        {
            try
            {
                await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p, cancellationToken: cancellationToken))
                {
                    all.Add(e);
                }
            }
            catch (HttpIOException ex)
            {
                Console.WriteLine($"DIAG read {stream}/{p} failed after {all.Count} events: {ex.Message}");
                await foreach (var item in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"streams/{stream}/", cancellationToken))
                {
                    var blob = log.Container.GetBlobClient(item.Name);
                    Uri sas = blob.GenerateSasUri(Azure.Storage.Sas.BlobSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1));
                    using var http = new HttpClient();
                    foreach (string range in new[] { "bytes=0-", "bytes=0-99" })
                    {
                        using var req = new HttpRequestMessage(HttpMethod.Get, sas);
                        req.Headers.TryAddWithoutValidation("x-ms-range", range);
                        using var resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                        long got = 0;
                        string err = "";
                        try { got = (await resp.Content.ReadAsByteArrayAsync(cancellationToken)).Length; } catch (Exception e2) { err = e2.Message; }
                        Console.WriteLine($"DIAG {item.Name} len={item.Properties.ContentLength} {range}: {(int)resp.StatusCode} cl={resp.Content.Headers.ContentLength} got={got} {err} {string.Join(";", resp.Headers.Where(h => h.Key.StartsWith("x-ms-error")).Select(h => h.Key + "=" + string.Join(",", h.Value)))}");
                    }
                }

                throw;
            }
        }

        return all;
    }

    /// <summary>Offsets that repeat within a partition, plus gaps in an uncompacted partition (each counts once).</summary>
    public static long ReusedOrMissingOffsets(IEnumerable<StoredEvent> events)
    {
        long bad = 0;
        foreach (IGrouping<int, StoredEvent> partition in events.GroupBy(e => e.Partition))
        {
            long expected = -1;
            foreach (StoredEvent e in partition)
            {
                if (expected >= 0 && e.Offset != expected)
                {
                    bad++;
                }

                expected = e.Offset + 1;
            }
        }

        return bad;
    }
}
