// Orleans has its own ErrorCode; in these tests the name means ZooKeeper's.
global using ErrorCode = OrleansCoord.Protocol.ErrorCode;
