namespace OrleansCoord.Grains.Storage;

/// <summary>Settings of the standalone file storage (zoo.cfg's dataDir, dataLogDir, forceSync, preAllocSize).</summary>
public sealed class FileStorageOptions
{
    /// <summary>dataDir: where snapshots are kept.</summary>
    public string DataDir { get; set; } = "";

    /// <summary>dataLogDir: where the txn log is kept; dataDir when empty.</summary>
    public string DataLogDir { get; set; } = "";

    /// <summary>forceSync: fdatasync every batch before it is acknowledged. Turning it off trades durability for speed.</summary>
    public bool ForceSync { get; set; } = true;

    /// <summary>preAllocSize in KB: the size each txn log segment is preallocated to.</summary>
    public int PreAllocSizeKb { get; set; } = 65536;

    internal string LogDirectory => DataLogDir.Length > 0 ? DataLogDir : DataDir;
}
