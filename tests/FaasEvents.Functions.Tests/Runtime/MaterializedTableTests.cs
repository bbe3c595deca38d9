using FaasEvents.Functions.Runtime;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>
/// The in-memory table a materializer folds into, against a plain model: what Get, Count, the snapshot and the taken
/// changes say after random upserts, deletes, commits and failed commits (Untake).
/// </summary>
public class MaterializedTableTests
{
    [Fact]
    public void Random_folds_commits_and_failed_commits_agree_with_a_dictionary_model()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var table = new MaterializedTable(typeof(string), new JsonStateSerializer());
            var model = new Dictionary<string, string>(StringComparer.Ordinal);
            var committed = new Dictionary<string, string>(StringComparer.Ordinal); // what the taken changes add up to
            var changedSinceTake = new Dictionary<string, long>(StringComparer.Ordinal);
            long offset = 0;
            for (int step = 0; step < 200; step++)
            {
                int op = random.Next(10);
                string key = $"k{random.Next(8)}";
                if (op < 5)
                {
                    string value = $"v{offset}";
                    table.Set(key, value, offset);
                    model[key] = value;
                    changedSinceTake[key] = offset++;
                }
                else if (op < 8)
                {
                    table.Set(key, null, offset);
                    model.Remove(key);
                    changedSinceTake[key] = offset++;
                }
                else
                {
                    (Dictionary<string, BinaryData?> values, Dictionary<string, long> offsets) = table.TakeChanges();
                    Assert.Equal(changedSinceTake.OrderBy(kv => kv.Key), offsets.OrderBy(kv => kv.Key));
                    foreach ((string k, BinaryData? data) in values)
                    {
                        Assert.Equal(model.TryGetValue(k, out string? v) ? $"\"{v}\"" : null, data?.ToString());
                    }

                    if (op == 9)
                    {
                        table.Untake(offsets); // the commit failed: the same keys are dirty again, at their offsets or later
                        continue;
                    }

                    changedSinceTake.Clear();
                    foreach ((string k, BinaryData? data) in values)
                    {
                        if (data is null)
                        {
                            committed.Remove(k);
                        }
                        else
                        {
                            committed[k] = data.ToString();
                        }
                    }
                }

                Assert.Equal(model.Count, table.Count);
                Assert.Equal(model.GetValueOrDefault(key), table.Get(key));
            }

            Assert.Equal(model.OrderBy(kv => kv.Key).Select(kv => (kv.Key, $"\"{kv.Value}\"")), table.SerializeAll().OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value.ToString())));
            Assert.Equal(model.Keys.Order(StringComparer.Ordinal), table.Page(null, null, 100).Items.Select(kv => kv.Key));
        }
    }
}
