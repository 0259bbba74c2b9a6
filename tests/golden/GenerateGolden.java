// Prints jute encodings of ZooKeeper records as the real Java implementation writes them, one
// "name<TAB>hex" line each. Our own program over Debian's zookeeper and zookeeper-jute jars;
// readOnly is not a jute field (ClientCnxn appends it), so the handshake records here are the 44/36-byte forms.
// the C# golden test (tests/OrleansCoord.Tests/Protocol/GoldenVectorTests.cs) builds the same values.
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.MultiOperationRecord;
import org.apache.zookeeper.MultiResponse;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.*;

public class GenerateGolden {
    static void emit(String name, Record record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        record.serialize(BinaryOutputArchive.getArchive(out), "r");
        StringBuilder hex = new StringBuilder();
        for (byte b : out.toByteArray()) hex.append(String.format("%02x", b));
        System.out.println(name + "\t" + hex);
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    public static void main(String[] args) throws Exception {
        byte[] pw = new byte[16];
        for (int i = 0; i < 16; i++) pw[i] = (byte) i;
        Stat s = new Stat(1, 2, 1700000000000L, 1700000000001L, 3, 4, 5, 0x0102030405060708L, 6, 7, 8);
        List<ACL> a = Arrays.asList(new ACL(31, new Id("world", "anyone")), new ACL(1, new Id("digest", "u:hash=")));
        List<ACL> open = Arrays.asList(new ACL(31, new Id("world", "anyone")));
        emit("ConnectRequest", new ConnectRequest(0, 0x1122334455667788L, 30000, 0x0102030405060708L, pw));
        emit("ConnectResponse", new ConnectResponse(0, 30000, 0x0102030405060708L, pw));
        emit("RequestHeader", new RequestHeader(7, 1));
        emit("ReplyHeader", new ReplyHeader(7, 0x100000002L, -101));
        emit("Stat", s);
        emit("CreateRequest", new CreateRequest("/a/b", utf8("hello"), a, 3));
        emit("CreateRequestNullData", new CreateRequest("/a", null, a, 0));
        emit("CreateRequestEmptyAcl", new CreateRequest("/a", new byte[0], Arrays.asList(), 0));
        emit("CreateTTLRequest", new CreateTTLRequest("/a/b", utf8("hello"), a, 5, 60000));
        emit("CreateResponse", new CreateResponse("/a/b0000000001"));
        emit("Create2Response", new Create2Response("/a/b0000000001", s));
        emit("DeleteRequest", new DeleteRequest("/a", 5));
        emit("ExistsRequest", new ExistsRequest("/a", true));
        emit("GetDataResponse", new GetDataResponse(utf8("xyz"), s));
        emit("SetDataRequest", new SetDataRequest("/a", utf8("new"), -1));
        emit("GetACLResponse", new GetACLResponse(a, s));
        emit("SetACLRequest", new SetACLRequest("/a", a, 2));
        emit("GetChildrenResponse", new GetChildrenResponse(Arrays.asList("x", "y")));
        emit("GetChildren2Response", new GetChildren2Response(Arrays.asList("x", "y"), s));
        emit("SyncResponse", new SyncResponse("/a"));
        emit("CheckVersionRequest", new CheckVersionRequest("/a", 4));
        emit("WatcherEvent", new WatcherEvent(3, 3, "/a"));
        emit("SetWatches", new SetWatches(0x10, Arrays.asList("/a"), Arrays.asList("/b"), Arrays.asList("/c")));
        emit("SetWatches2", new SetWatches2(0x10, Arrays.asList("/a"), Arrays.asList("/b"), Arrays.asList("/c"), Arrays.asList("/p"), Arrays.asList("/r")));
        emit("AuthPacket", new AuthPacket(0, "digest", utf8("user:pass")));
        emit("CheckWatchesRequest", new CheckWatchesRequest("/a", 1));
        emit("AddWatchRequest", new AddWatchRequest("/a", 1));
        emit("GetAllChildrenNumberResponse", new GetAllChildrenNumberResponse(42));
        emit("WhoAmIResponse", new WhoAmIResponse(Arrays.asList(new ClientInfo("digest", "u"), new ClientInfo("ip", "127.0.0.1"))));
        emit("ErrorResponse", new ErrorResponse(-101));
        emit("MultiRequest", new MultiOperationRecord(Arrays.asList(
            Op.create("/m", utf8("d"), open, CreateMode.PERSISTENT), Op.setData("/m", utf8("e"), -1), Op.check("/m", 1), Op.delete("/m", -1))));
        MultiResponse ok = new MultiResponse();
        ok.add(new OpResult.CreateResult("/m"));
        ok.add(new OpResult.SetDataResult(s));
        ok.add(new OpResult.CheckResult());
        ok.add(new OpResult.DeleteResult());
        emit("MultiResponseOk", ok);
        MultiResponse failed = new MultiResponse();
        failed.add(new OpResult.ErrorResult(0));
        failed.add(new OpResult.ErrorResult(-103));
        failed.add(new OpResult.ErrorResult(-2));
        emit("MultiResponseError", failed);
    }
}
