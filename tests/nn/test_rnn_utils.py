"""nn.utils.rnn: padding and packed sequences, and the recurrent layers on packed input, against torch."""

import numpy as np
import pytest
from helpers import assert_close

import shenjing as sj
from shenjing.autograd import gradcheck
from shenjing.nn.utils import rnn


def _sequences(rng, lengths, features=3):
    return [rng.standard_normal((n, features)) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, side):
    seqs = _sequences(np.random.default_rng(0), [2, 4, 1])
    ours = rnn.pad_sequence([sj.tensor(s) for s in seqs], batch_first, -1.0, side)
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0, side)
    assert ours.shape == tuple(theirs.shape)
    assert_close(ours, theirs)


@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [4, 2, 2, 1]), (False, [2, 4, 1, 2])])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_like_torch(torch, enforce_sorted, lengths, batch_first):
    seqs = _sequences(np.random.default_rng(1), lengths)
    padded = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(padded, lengths, batch_first, enforce_sorted)
    ours = rnn.pack_padded_sequence(sj.tensor(padded.numpy()), sj.tensor(lengths), batch_first, enforce_sorted)
    assert_close(ours.data, theirs.data)
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist() and ours.batch_sizes.dtype == np.int64
    for mine, ref in [(ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)]:
        assert (mine is None and ref is None) or mine.tolist() == ref.tolist()
    back, back_lengths = rnn.pad_packed_sequence(ours, batch_first, padding_value=7.0, total_length=6)
    ref, ref_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, padding_value=7.0, total_length=6)
    assert_close(back, ref)
    assert back_lengths.tolist() == ref_lengths.tolist() == lengths
    packed = rnn.pack_sequence([sj.tensor(s) for s in seqs], enforce_sorted=False)
    assert_close(packed.data, torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], False).data)


def test_packing_is_differentiable():
    rng = np.random.default_rng(2)

    def round_trip(x):
        packed = rnn.pack_padded_sequence(x, [1, 3, 2], batch_first=True, enforce_sorted=False)
        return rnn.pad_packed_sequence(packed, padding_value=0.5)[0] * 2.0

    assert gradcheck(round_trip, [sj.tensor(rng.standard_normal((3, 3, 2)), requires_grad=True)])


def test_bad_lengths_raise_torchs_exception_classes(torch):
    x = np.zeros((3, 2, 1))
    for pack in (rnn.pack_padded_sequence, torch.nn.utils.rnn.pack_padded_sequence):
        data = sj.tensor(x) if pack is rnn.pack_padded_sequence else torch.tensor(x)
        with pytest.raises(RuntimeError, match="sorted in decreasing order"):
            pack(data, [1, 3])
        with pytest.raises(RuntimeError, match="greater than 0"):
            pack(data, [2, 0])
    with pytest.raises(ValueError, match="total_length 1 is shorter"):
        rnn.pad_packed_sequence(rnn.pack_padded_sequence(sj.tensor(x), [3, 1]), total_length=1)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 3])])
def test_recurrent_layers_on_packed_input_match_torch(torch, mode, batch_first, enforce_sorted, lengths):
    rng = np.random.default_rng(3)
    steps, batch = max(lengths), len(lengths)
    x = rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3))
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    ours = getattr(sj.nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    h0 = rng.standard_normal((4, batch, 4))
    hx, thx = (sj.tensor(h0), torch.tensor(h0))
    if mode == "LSTM":
        hx, thx = (hx, sj.tensor(h0 / 2)), (thx, torch.tensor(h0 / 2))
    xs, tx = sj.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, state = ours(rnn.pack_padded_sequence(xs, lengths, batch_first, enforce_sorted), hx)
    tout, tstate = theirs(torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted), thx)
    assert isinstance(out, rnn.PackedSequence) and out.batch_sizes.tolist() == tout.batch_sizes.tolist()
    assert_close(out.data, tout.data)
    states, tstates = (state, tstate) if mode == "LSTM" else ((state,), (tstate,))
    for mine, ref in zip(states, tstates):
        assert_close(mine, ref)
    padded, _ = rnn.pad_packed_sequence(out, batch_first)
    tpadded, _ = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first)
    upstream = rng.standard_normal(tuple(tpadded.shape))
    ((padded * sj.tensor(upstream)).sum() + states[-1].sum()).backward()
    ((tpadded * torch.tensor(upstream)).sum() + tstates[-1].sum()).backward()
    assert_close(xs.grad, tx.grad)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.grad, q.grad, err_msg=name)


def test_lstm_on_packed_input_gradcheck():
    sj.manual_seed(0)
    lstm = sj.nn.LSTM(2, 3, bidirectional=True).double()
    x = sj.tensor(np.random.default_rng(4).standard_normal((3, 2, 2)), requires_grad=True)

    def run(x, w):
        out, (h, c) = lstm(rnn.pack_padded_sequence(x, [1, 3], enforce_sorted=False))
        return rnn.pad_packed_sequence(out)[0].sum() + h.sum() * 0.5 + c.sum() * 0.25

    assert gradcheck(run, [x, lstm.weight_hh_l0_reverse])


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_give_back_the_sequences_like_torch(torch, batch_first):
    seqs = _sequences(np.random.default_rng(6), [2, 4, 1])
    padded = rnn.pad_sequence([sj.tensor(s) for s in seqs], batch_first)
    ours = rnn.unpad_sequence(padded, sj.tensor([2, 4, 1]), batch_first)
    theirs = torch.nn.utils.rnn.unpad_sequence(torch.tensor(padded.numpy()), torch.tensor([2, 4, 1]), batch_first)
    for mine, ref, original in zip(ours, theirs, seqs):
        assert_close(mine, ref)
        np.testing.assert_array_equal(np.asarray(mine), original)
    unpacked = rnn.unpack_sequence(rnn.pack_sequence([sj.tensor(s) for s in seqs], enforce_sorted=False))
    assert [np.asarray(s).tolist() for s in unpacked] == [s.tolist() for s in seqs]
