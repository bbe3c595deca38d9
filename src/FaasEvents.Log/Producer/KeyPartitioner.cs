using System.Text;

namespace FaasEvents.Log.Producer;

/// <summary>
/// Maps a partition key to a partition: <c>(murmur2(utf8(key)) &amp; 0x7fffffff) % partitions</c>, the same
/// function as Kafka's default partitioner, so a key lands on the same partition number in both systems.
/// The mapping is stable forever for a given partition count.
/// </summary>
public static class KeyPartitioner
{
    /// <summary>Returns the partition for <paramref name="key"/> among <paramref name="partitionCount"/> partitions.</summary>
    public static int GetPartition(string key, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return (Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % partitionCount;
    }

    /// <summary>MurmurHash2, 32-bit, seed 0x9747b28c, as Kafka computes it.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        int length = data.Length;
        uint h = 0x9747b28c ^ (uint)length;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++)
        {
            int j = i * 4;
            uint k = data[j] | ((uint)data[j + 1] << 8) | ((uint)data[j + 2] << 16) | ((uint)data[j + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        int tail = blocks * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
