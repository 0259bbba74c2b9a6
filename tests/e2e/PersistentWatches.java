// Apache ZooKeeper's Java client (Debian's libzookeeper-java) with persistent and persistent recursive watches
// (addWatch), across a dropped connection: the client sets them again with setWatches2 when it reconnects.
// usage: java -cp ZOOKEEPER_JARS PersistentWatches.java HOST:PORT [--orleanscoord]
// With --orleanscoord the changes made while the client was away must also be reported once it reconnects, as
// OrleansCoord does; Apache ZooKeeper 3.8 reports none of them (the rest passes against it).
// Prints PASS/FAIL per check and "N passed, M failed".
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public class PersistentWatches {
    static int passed;
    static int failed;

    public static void main(String[] args) throws Exception {
        String[] hostPort = args[0].split(":");
        boolean orleansCoord = args.length > 1 && args[1].equals("--orleanscoord");
        try (Proxy proxy = new Proxy(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))) {
            run(args[0], proxy, orleansCoord);
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    static void run(String server, Proxy proxy, boolean orleansCoord) throws Exception {
        BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper changer = connect(server, new LinkedBlockingQueue<>());
        ZooKeeper watching = connect("127.0.0.1:" + proxy.port(), states);
        String root = "/jpw-" + UUID.randomUUID().toString().substring(0, 8);
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Watcher watcher = e -> {
            if (e.getType() != EventType.None && !e.getType().name().endsWith("WatchRemoved")) {
                events.add(e.getType() + " " + e.getPath().replace(root, "ROOT"));
            }
        };

        changer.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        watching.addWatch(root + "/p", watcher, AddWatchMode.PERSISTENT);
        watching.addWatch(root + "/r", watcher, AddWatchMode.PERSISTENT_RECURSIVE);

        create(changer, root + "/p");
        expect("created, persistent", events, "NodeCreated ROOT/p");
        create(changer, root + "/r");
        create(changer, root + "/r/a");
        expect("created, recursive", events, "NodeCreated ROOT/r", "NodeCreated ROOT/r/a");
        changer.setData(root + "/r/a", new byte[] {1}, -1);
        expect("data changed below, recursive", events, "NodeDataChanged ROOT/r/a");
        create(changer, root + "/p/c");
        expect("children changed, persistent", events, "NodeChildrenChanged ROOT/p");

        // The client's last zxid is that of its last reply (events do not move it), and what was missed is counted
        // from there: a read brings it past the changes already seen. Then the connection drops, changes are made,
        // and the client reconnects and sends setWatches2.
        watching.exists(root, false);
        proxy.pause();
        check("disconnected", states.poll(30, TimeUnit.SECONDS) == KeeperState.Disconnected);
        changer.setData(root + "/p", new byte[] {2}, -1);
        create(changer, root + "/r/b");
        proxy.resume();
        check("reconnected", states.poll(30, TimeUnit.SECONDS) == KeeperState.SyncConnected);
        // setWatches2 went out before this read on the same connection, so once it is answered the watches are armed.
        watching.exists(root, false);
        if (orleansCoord) {
            expect("missed while away", events, "NodeDataChanged ROOT/p", "NodeCreated ROOT/r/b");
        }

        changer.delete(root + "/r/a", -1);
        changer.setData(root + "/p", new byte[] {3}, -1);
        expect("armed again after reconnect", events, "NodeDeleted ROOT/r/a", "NodeDataChanged ROOT/p");

        watching.removeWatches(root + "/r", watcher, Watcher.WatcherType.Any, false);
        create(changer, root + "/r/x");
        changer.setData(root + "/p", new byte[] {4}, -1);
        expect("removed recursive watch fires no more", events, "NodeDataChanged ROOT/p");

        watching.close();
        changer.close();
    }

    static ZooKeeper connect(String server, BlockingQueue<KeeperState> states) throws Exception {
        BlockingQueue<KeeperState> connected = new LinkedBlockingQueue<>();
        ZooKeeper zk = new ZooKeeper(server, 30000, e -> {
            if (e.getType() == EventType.None) {
                states.add(e.getState());
                connected.add(e.getState());
            }
        });
        if (connected.poll(30, TimeUnit.SECONDS) != KeeperState.SyncConnected) {
            throw new IOException("no session with " + server);
        }
        states.clear();
        return zk;
    }

    static void create(ZooKeeper zk, String path) throws Exception {
        zk.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    static void expect(String name, BlockingQueue<String> events, String... expected) throws InterruptedException {
        for (String e : expected) {
            String got = events.poll(30, TimeUnit.SECONDS);
            if (!e.equals(got)) {
                check(name + ": expected <" + e + ">, got <" + got + ">", false);
                return;
            }
        }
        check(name, true);
    }

    static void check(String name, boolean ok) {
        if (ok) {
            passed++;
            System.out.println("PASS " + name);
        } else {
            failed++;
            System.out.println("FAIL " + name);
        }
    }

    /** A TCP relay the test can cut: pause() drops every connection and refuses new ones until resume(). */
    static final class Proxy implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private volatile boolean paused;

        Proxy(InetSocketAddress target) throws IOException {
            Thread acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket client = listener.accept();
                        if (paused) {
                            client.close();
                            continue;
                        }
                        Socket upstream = new Socket(target.getAddress(), target.getPort());
                        open.add(client);
                        open.add(upstream);
                        pump(client, upstream);
                        pump(upstream, client);
                    } catch (IOException e) {
                        // Closed listener, or a refused connection: the client tries again.
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        void pause() throws IOException {
            paused = true;
            for (Socket s : open) {
                s.close();
            }
            open.clear();
        }

        void resume() {
            paused = false;
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[65536];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // Either side closed.
                }
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // Already closed.
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            pause();
            listener.close();
        }
    }
}
