using SLoRA.Engine.Adapters;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Tests.Adapters;

namespace SLoRA.Engine.Tests.Execution;

public class ForwardBatchTests
{
    [Fact]
    public void Group_ranks_are_the_largest_rank_per_module_group_among_the_batch_adapters()
    {
        var config = AdapterFixtures.Gqa;
        // q/k/v at rank 4 and o at rank 8 in one adapter; gate/up/down only in another; a base sequence.
        var attention = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "attn", 4, ["q_proj", "v_proj"], seed: 1), config.NumLayers, 2 * config.KvDim);
        var output = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "o", 8, ["o_proj"], seed: 2), config.NumLayers, 2 * config.KvDim);
        var mlp = PackedAdapter.Pack(LoraAdapter.Synthetic(config, "mlp", 2, ["gate_proj", "down_proj"], seed: 3), config.NumLayers, 2 * config.KvDim);
        Assert.Equal([4, 0, 0, 0], attention.GroupMaxRanks);
        Assert.Equal([0, 8, 0, 0], output.GroupMaxRanks);
        Assert.Equal([0, 0, 2, 2], mlp.GroupMaxRanks);

        var batch = new ForwardBatch();
        batch.AddSequence([0, 1], [5, 6], loraSlot: -1, loraRank: 0);
        batch.AddSequence([2], [7], loraSlot: 0, loraRank: attention.MaxRank, groupRanks: attention.GroupMaxRanks);
        Assert.Equal([4, 0, 0, 0], Enumerable.Range(0, PackedAdapter.NumGroups).Select(batch.GroupRank));
        batch.AddSequence([3], [8], loraSlot: 1, loraRank: output.MaxRank, groupRanks: output.GroupMaxRanks);
        batch.AddSequence([4], [9], loraSlot: 2, loraRank: mlp.MaxRank, groupRanks: mlp.GroupMaxRanks);
        Assert.Equal([4, 8, 2, 2], Enumerable.Range(0, PackedAdapter.NumGroups).Select(batch.GroupRank));
        Assert.Equal(8, batch.MaxLoraRank);

        // Without group ranks every group gets the adapter's rank; Clear forgets them all.
        batch.Clear();
        batch.AddSequence([0], [1], loraSlot: 0, loraRank: 3);
        Assert.Equal([3, 3, 3, 3], Enumerable.Range(0, PackedAdapter.NumGroups).Select(batch.GroupRank));
        batch.Clear();
        Assert.Equal([0, 0, 0, 0], Enumerable.Range(0, PackedAdapter.NumGroups).Select(batch.GroupRank));
        Assert.Throws<ArgumentException>(() => batch.AddSequence([0], [1], loraSlot: 0, loraRank: 3, groupRanks: [1, 2]));
    }

    [Fact]
    public void Decode_tokens_are_listed_and_prefill_segments_cut_into_tiles_of_at_most_TileTokens()
    {
        var batch = new ForwardBatch(tokenCapacity: 4, sequenceCapacity: 1);
        int[] Pages(int n) => Enumerable.Range(0, n).ToArray();
        int[] Tokens(int n) => Enumerable.Repeat(7, n).ToArray();
        batch.AddSequence(Pages(9), Tokens(1));                                 // decode: token 0
        batch.AddSequence(Pages(40), Tokens(2 * ForwardBatch.TileTokens + 3));  // prefill: tokens 1..35
        batch.AddSequence(Pages(3), Tokens(1));                                 // decode: token 36
        batch.AddSequence(Pages(50), Tokens(ForwardBatch.TileTokens));          // prefill chunk: tokens 37..52
        Assert.Equal([0, 36], batch.DecodeTokens.ToArray());
        var tiles = batch.PrefillTiles.ToArray().Select(t => (t.First, t.Count)).ToArray();
        int tile = ForwardBatch.TileTokens;
        Assert.Equal([(1, tile), (1 + tile, tile), (1 + 2 * tile, 3), (37, tile)], tiles);
        Assert.Equal(2, batch.NumDecodeTokens);
        Assert.Equal(4, batch.NumPrefillTiles);

        batch.Clear();
        Assert.Equal(0, batch.NumDecodeTokens);
        Assert.Equal(0, batch.NumPrefillTiles);
    }
}
