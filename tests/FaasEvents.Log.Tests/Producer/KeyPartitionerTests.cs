using System.Text;
using FaasEvents.Log.Producer;
using FsCheck.Xunit;

namespace FaasEvents.Log.Tests.Producer;

public class KeyPartitionerTests
{
    // Kafka's own murmur2 test vectors (clients UtilsTest), so keys map as Kafka maps them.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_matches_kafka(string key, int expected) =>
        Assert.Equal(expected, KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Partition_is_positive_hash_modulo_count() =>
        Assert.Equal((-973932308 & 0x7fffffff) % 8, KeyPartitioner.GetPartition("21", 8));

    [Property(MaxTest = 500)]
    public bool Partition_is_stable_and_in_range(string key, byte count)
    {
        int n = count % 64 + 1;
        key ??= "";
        int p = KeyPartitioner.GetPartition(key, n);
        return p >= 0 && p < n && p == KeyPartitioner.GetPartition(key, n);
    }

    [Fact]
    public void Keys_spread_evenly_enough()
    {
        int[] counts = new int[16];
        for (int i = 0; i < 16_000; i++)
        {
            counts[KeyPartitioner.GetPartition("customer-" + i, 16)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }
}
