// Orleans has its own ErrorCode; in this project the name means ZooKeeper's.
global using ErrorCode = OrleansCoord.Protocol.ErrorCode;
