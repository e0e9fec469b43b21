using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Memory;

/// <summary>
/// Which registered adapters are on the device, in which pages and table slots. An adapter is
/// copied into pool pages (on a copy stream of its own, so copies overlap compute) when a batch
/// needs it, and evicted, least recently used first among adapters that no running sequence
/// uses, when KV or another adapter needs the room. Owned by the engine's step thread.
/// </summary>
/// <remarks>
/// Copies go from page-locked host memory. Page-locking (cuMemHostRegister) a 32 MB adapter costs
/// milliseconds, more than its copy, so registered adapters are locked when they are registered,
/// while the bytes locked stay within a budget, and stay locked until unregistered: a load on the
/// serving path is then the copy alone. Adapters past the budget are locked while resident.
/// </remarks>
internal sealed class AdapterCache : IDisposable, Scheduling.IAdapterPages
{
    private readonly Accelerator _acc;
    private readonly PagePool _pages;
    private readonly ArrayView<Half> _pool;
    private readonly AcceleratorStream _copyStream;
    private readonly Dictionary<string, Resident> _resident = [];
    private readonly Dictionary<string, PackedAdapter> _registered = [];
    private readonly HashSet<string> _pendingEviction = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly MemoryBuffer1D<LoraModuleEntry, Stride1D.Dense> _entries;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _pageLists;
    // Page-locked host mirrors of the two tables: a load copies its rows from them asynchronously
    // (a copy from an ordinary array waits for the copy stream, so every load would block the step
    // thread until the adapter's pages had landed).
    private readonly int[] _pageListsHost;
    private readonly LoraModuleEntry[] _entriesHost;
    private readonly PageLockScope<int> _pageListsLock;
    private readonly PageLockScope<LoraModuleEntry> _entriesLock;
    // Per slot: an event marking the end of its last load's copies, and that load's ticket (loads
    // are numbered in the copy stream's order, so waiting for one waits for all before it).
    private readonly StreamJoin?[] _copied;
    private readonly long[] _ticketOfSlot;
    private long _ticket;
    private long _waitedTicket;
    // Page locks by host array: adapters that share packed weights (PackedAdapter) share one lock
    // (registering the same host memory twice is an error in CUDA), counted by resident users.
    private readonly Dictionary<System.Half[], (PageLockScope<Half> Scope, int Users)> _locks = new(ReferenceEqualityComparer.Instance);
    // Adapters whose host array a registration holds locked (one count each in _locks).
    private readonly HashSet<string> _lockedAtRegistration = [];
    private readonly long _lockBudget;
    private long _lockedBytes;
    private long _clock;
    // Pages of resident adapters that no running sequence uses (the scheduler asks every step).
    private int _idlePages;

    /// <summary>
    /// A cache over <paramref name="pool"/>'s pages; registrations keep adapters' host arrays
    /// page-locked while the bytes locked stay within <paramref name="registrationLockBytes"/>.
    /// </summary>
    public AdapterCache(Accelerator accelerator, PagePool pages, ArrayView<Half> pool, LlamaConfig config, int maxRank, int maxResident,
        long registrationLockBytes = 0)
    {
        _lockBudget = registrationLockBytes;
        _acc = accelerator;
        _pages = pages;
        _pool = pool;
        NumLayers = config.NumLayers;
        SliceElements = 2 * config.KvDim;
        MaxRank = maxRank;
        // The largest layer an adapter of maxRank can have: every module, plus the alignment
        // padding (under 8 elements before each of its A and B matrices).
        long largestLayer = WeightNames.ProjectionModules
            .Sum(m => { var s = WeightNames.ProjectionShape(config, m); return (long)maxRank * (s[0] + s[1]) + 2 * 8; });
        MaxPagesPerAdapter = (int)Math.Max(1, largestLayer.DivideRoundingUp(SliceElements));
        _copyStream = accelerator.CreateStream();
        _entries = accelerator.Allocate1D<LoraModuleEntry>((long)maxResident * NumLayers * WeightNames.ProjectionModules.Count);
        _entries.MemSetToZero();
        _pageLists = accelerator.Allocate1D<int>((long)maxResident * MaxPagesPerAdapter);
        _pageListsHost = GC.AllocateArray<int>(checked(maxResident * MaxPagesPerAdapter), pinned: true);
        _entriesHost = GC.AllocateArray<LoraModuleEntry>(checked(maxResident * NumLayers * WeightNames.ProjectionModules.Count), pinned: true);
        _pageListsLock = accelerator.CreatePageLockFromPinned<int>(PinnedAddress(_pageListsHost), _pageListsHost.LongLength);
        _entriesLock = accelerator.CreatePageLockFromPinned<LoraModuleEntry>(PinnedAddress(_entriesHost), _entriesHost.LongLength);
        _copied = new StreamJoin?[maxResident];
        _ticketOfSlot = new long[maxResident];
        for (int s = maxResident - 1; s >= 0; s--)
            _freeSlots.Push(s);
        Layout = new LoraLayout(NumLayers, SliceElements, WeightNames.ProjectionModules.Count, MaxPagesPerAdapter, alignedStarts: true);
    }

    public int NumLayers { get; }
    public int SliceElements { get; }
    public int MaxRank { get; }
    public int MaxPagesPerAdapter { get; }
    public LoraLayout Layout { get; }
    public ArrayView<LoraModuleEntry> Entries => _entries.View;
    public ArrayView<int> PageLists => _pageLists.View;

    /// <summary>Adapters on the device.</summary>
    public int ResidentCount => _resident.Count;

    /// <summary>Whether the adapter is on the device.</summary>
    public bool IsResident(string adapterKey) => _resident.ContainsKey(adapterKey);

    /// <summary>Table slot of a resident adapter.</summary>
    public int SlotOf(string id) => _resident[id].Slot;

    /// <inheritdoc />
    public int PagesToPin(string adapterKey) =>
        _resident.TryGetValue(adapterKey, out var r) && r.Users > 0 ? 0 : _registered.TryGetValue(adapterKey, out var a) ? a.NumPages : 0;

    /// <summary>
    /// Makes a packed adapter known, so that admission can price it, and page-locks its host array
    /// if the registration lock budget allows (an array already locked costs nothing more).
    /// </summary>
    public void Register(PackedAdapter adapter)
    {
        ReleaseRegistrationLock(adapter.Key);
        _registered[adapter.Key] = adapter;
        if (_locks.ContainsKey(adapter.Host) || _lockedBytes + HostBytes(adapter.Host) <= _lockBudget)
        {
            Lock(adapter.Host);
            _lockedAtRegistration.Add(adapter.Key);
        }
    }

    /// <summary>Drops the lock a registration of <paramref name="key"/> holds on its host array, if it holds one.</summary>
    private void ReleaseRegistrationLock(string key)
    {
        if (_registered.TryGetValue(key, out var adapter) && _lockedAtRegistration.Remove(key))
            Unlock(adapter.Host);
    }

    /// <summary>Forgets an adapter; it leaves the device as soon as no running sequence uses it.</summary>
    public void Unregister(string key)
    {
        ReleaseRegistrationLock(key);
        _registered.Remove(key);
        _pendingEviction.Add(key);
        EvictPending();
    }

    /// <summary>Evicts unregistered adapters that have become idle.</summary>
    public void EvictPending()
    {
        if (_pendingEviction.Count == 0)
            return;
        _pendingEviction.RemoveWhere(TryEvict);
    }

    /// <summary>Pages that evicting every adapter no running sequence uses would free.</summary>
    public int EvictablePages => _idlePages;

    /// <summary>
    /// Makes <paramref name="adapter"/> resident (copying it on the copy stream if it is not),
    /// evicting idle adapters as needed. False when it cannot fit even after evicting every idle adapter.
    /// </summary>
    public bool TryLoad(PackedAdapter adapter)
    {
        if (_resident.TryGetValue(adapter.Key, out var resident))
        {
            resident.LastUsed = ++_clock;
            return true;
        }
        if (!MakeRoom(adapter.NumPages) || _freeSlots.Count == 0 && !EvictOne())
            return false;
        var pages = new int[adapter.NumPages];
        if (!_pages.TryAllocate(PageKind.Adapter, pages))
            return false;
        int slot = _freeSlots.Pop();
        var pageElements = (long)NumLayers * SliceElements;
        Lock(adapter.Host);
        // One copy per run of consecutive pages (a fresh pool hands them out in order), asynchronous
        // on the copy stream from page-locked memory: a copy call costs microseconds of host time,
        // and a 32 MB adapter is 64 pages.
        for (int p = 0; p < pages.Length;)
        {
            int run = 1;
            while (p + run < pages.Length && pages[p + run] == pages[p] + run)
                run++;
            ref var source = ref Unsafe.As<System.Half, Half>(ref adapter.Host[p * pageElements]);
            _pool.SubView(pages[p] * pageElements, run * pageElements).CopyFromCPUUnsafeAsync(_copyStream, ref source, run * pageElements);
            p += run;
        }
        long listAt = (long)slot * MaxPagesPerAdapter;
        pages.CopyTo(_pageListsHost.AsSpan((int)listAt));
        ((ArrayView<int>)_pageLists.View).SubView(listAt, pages.Length).CopyFromCPUUnsafeAsync(_copyStream, ref _pageListsHost[listAt], pages.Length);
        int perSlot = NumLayers * WeightNames.ProjectionModules.Count;
        long entriesAt = (long)slot * perSlot;
        adapter.Entries.CopyTo(_entriesHost.AsSpan((int)entriesAt));
        ((ArrayView<LoraModuleEntry>)_entries.View).SubView(entriesAt, perSlot).CopyFromCPUUnsafeAsync(_copyStream, ref _entriesHost[entriesAt], perSlot);
        if (_copied[slot] is null)
        {
            _acc.Bind();
            _copied[slot] = StreamJoin.Create(_acc);
        }
        _copied[slot]!.Signal(_copyStream);
        _ticketOfSlot[slot] = ++_ticket;
        _resident[adapter.Key] = new Resident(adapter, slot, pages) { LastUsed = ++_clock };
        _idlePages += pages.Length;
        return true;
    }

    /// <summary>
    /// Starts copying an adapter that upcoming steps will need, on the copy stream, while the
    /// current step computes. Only uses free pages beyond <paramref name="reservePages"/>, never
    /// evicts; the adapter stays evictable until a sequence uses it.
    /// </summary>
    public bool TryPrefetch(PackedAdapter adapter, int reservePages)
    {
        if (_resident.ContainsKey(adapter.Key))
            return true;
        if (_pages.FreeCount - reservePages < adapter.NumPages || _freeSlots.Count == 0)
            return false;
        Prefetches++;
        return TryLoad(adapter);
    }

    /// <summary>Adapters loaded ahead of need so far.</summary>
    public long Prefetches { get; private set; }

    /// <summary>Waits on the host for every adapter copy queued so far.</summary>
    public void WaitForCopies() => _copyStream.Synchronize();

    /// <summary>
    /// Makes work queued on <paramref name="stream"/> from now on wait, on the device, for the
    /// copies of the adapters in <paramref name="slots"/> (slot −1: none), and only those and the
    /// loads queued before them: a step waits for its own adapters while later ones keep loading.
    /// </summary>
    public void WaitForCopies(AcceleratorStream stream, ReadOnlySpan<int> slots)
    {
        int last = -1;
        long newest = _waitedTicket;
        foreach (int slot in slots)
        {
            if (slot >= 0 && _ticketOfSlot[slot] > newest)
            {
                newest = _ticketOfSlot[slot];
                last = slot;
            }
        }
        if (last < 0)
            return;
        _copied[last]!.WaitFor(stream);
        _waitedTicket = newest;
    }

    /// <summary>A running sequence starts or stops using the adapter; adapters in use are never evicted.</summary>
    public void AddUser(string id, int delta)
    {
        var r = _resident[id];
        int before = r.Users;
        r.Users += delta;
        if (before == 0 && r.Users > 0)
            _idlePages -= r.Pages.Length;
        else if (before > 0 && r.Users == 0)
            _idlePages += r.Pages.Length;
        r.LastUsed = ++_clock;
    }

    /// <summary>Frees pages for KV or another adapter by evicting idle adapters, least recently used first.</summary>
    public bool MakeRoom(int pagesNeeded)
    {
        while (_pages.FreeCount < pagesNeeded)
        {
            if (!EvictOne())
                return false;
        }
        return true;
    }

    /// <summary>Removes every resident adapter that no running sequence uses.</summary>
    public void EvictIdle()
    {
        foreach (var r in _resident.Values.Where(r => r.Users == 0).ToList())
            Evict(r);
    }

    /// <summary>Removes the adapter from the device if it is resident and idle; false if it is in use.</summary>
    public bool TryEvict(string id)
    {
        if (!_resident.TryGetValue(id, out var r))
            return true;
        if (r.Users > 0)
            return false;
        Evict(r);
        return true;
    }

    private bool EvictOne()
    {
        Resident? victim = null;
        foreach (var r in _resident.Values)
        {
            if (r.Users == 0 && (victim is null || r.LastUsed < victim.LastUsed))
                victim = r;
        }
        if (victim is null)
            return false;
        Evict(victim);
        return true;
    }

    private void Evict(Resident r)
    {
        // Pending copies into these pages must land before the pages are reused.
        _copyStream.Synchronize();
        _pages.Free(r.Pages);
        if (r.Users == 0)
            _idlePages -= r.Pages.Length;
        _freeSlots.Push(r.Slot);
        _resident.Remove(r.Adapter.Key);
        Unlock(r.Adapter.Host);
    }

    private void Lock(System.Half[] host)
    {
        if (_locks.TryGetValue(host, out var existing))
        {
            _locks[host] = (existing.Scope, existing.Users + 1);
            return;
        }
        _locks[host] = (_acc.CreatePageLockFromPinned<Half>(PinnedAddress(host), host.LongLength), 1);
        _lockedBytes += HostBytes(host);
    }

    private static long HostBytes(System.Half[] host) => 2L * host.LongLength;

    private void Unlock(System.Half[] host)
    {
        var (scope, users) = _locks[host];
        if (users > 1)
        {
            _locks[host] = (scope, users - 1);
            return;
        }
        _locks.Remove(host);
        // Copies from it must land before it is unlocked.
        _copyStream.Synchronize();
        scope.Dispose();
        _lockedBytes -= HostBytes(host);
    }

    /// <summary>Bytes of host memory page-locked now.</summary>
    internal long LockedHostBytes => _lockedBytes;

    /// <summary>Host arrays page-locked now (adapters sharing packed weights share one).</summary>
    internal int LockedHostArrays => _locks.Count;

    private static unsafe IntPtr PinnedAddress<T>(T[] pinned) where T : unmanaged =>
        (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    public void Dispose()
    {
        _copyStream.Synchronize();
        foreach (var (scope, _) in _locks.Values)
            scope.Dispose();
        foreach (var join in _copied)
            join?.Dispose();
        _pageListsLock.Dispose();
        _entriesLock.Dispose();
        _copyStream.Dispose();
        _entries.Dispose();
        _pageLists.Dispose();
    }

    private sealed class Resident(PackedAdapter adapter, int slot, int[] pages)
    {
        public PackedAdapter Adapter { get; } = adapter;
        public int Slot { get; } = slot;
        public int[] Pages { get; } = pages;
        public int Users { get; set; }
        public long LastUsed { get; set; }
    }
}

internal static class LongExtensions
{
    public static long DivideRoundingUp(this long value, long divisor) => (value + divisor - 1) / divisor;
}
