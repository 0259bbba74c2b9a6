// Apache Curator 5.4's recipes (Debian's libcurator-*-java, on libzookeeper-java 3.8) against any ZooKeeper-compatible
// server: locks, semaphores, leader election, barriers, queues, shared and atomic counters, every cache, group
// membership, persistent (ephemeral and TTL) nodes, transactions, containers, and Curator's EnsembleTracker.
// usage: java -cp CLASSPATH CuratorRecipes.java HOST:PORT [--ttl] [--only NAME ...] [--list]
//   CLASSPATH=/usr/share/java/curator-recipes.jar:/usr/share/java/curator-framework.jar:/usr/share/java/curator-client.jar:/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/guava.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar
//   (Debian's guava.jar carries failureaccess; jackson, which curator-framework's manifest names, is not needed here.)
// --ttl adds the TTL checks (the server must run with extendedTypesEnabled=true). The container checks need the
// server's container check interval short: Apache ZooKeeper started with -Dznode.container.checkIntervalMs=100,
// OrleansCoord with --znode.container.checkIntervalMs 100; the server must delete an emptied container within 15 s.
// Every scenario has its own clients (sessionTimeoutMs 10000, connectionTimeoutMs 10000, ExponentialBackoffRetry,
// Curator's default ensembleTracker(true)) and its own root /curator-NAME-UUID, removed when it ends. Nothing
// waits with sleeps: waits are on watches, listeners, latches and futures, bounded at 15 s. A timed acquire that
// must fail is given 300 ms: that timeout is what such a check tests.
// Prints "PASS scenario.check" or "FAIL scenario.check: reason" per check and "N passed, M failed"; exits 0 only
// when every check passed.
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicInteger;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.atomic.PromotedToLock;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.DistributedIdQueue;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.SharedCountListener;
import org.apache.curator.framework.recipes.shared.SharedCountReader;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;

@SuppressWarnings("deprecation") // PathChildrenCache, NodeCache and TreeCache are deprecated in favour of CuratorCache
public class CuratorRecipes {
    static final long WAIT_S = 15;
    static final long SHORT_MS = 300;
    static String connect;
    static int passed;
    static int failed;
    static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "scenario-worker");
        t.setDaemon(true);
        return t;
    });

    interface Scenario {
        void run(Ctx ctx) throws Exception;
    }

    static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();
    static final Set<String> TTL_SCENARIOS = Set.of("ttl", "persistentttlnode");

    static {
        SCENARIOS.put("ensembletracker", CuratorRecipes::ensembleTracker);
        SCENARIOS.put("mutex", CuratorRecipes::mutex);
        SCENARIOS.put("readwritelock", CuratorRecipes::readWriteLock);
        SCENARIOS.put("semaphore", CuratorRecipes::semaphore);
        SCENARIOS.put("semaphoremutex", CuratorRecipes::semaphoreMutex);
        SCENARIOS.put("leaderlatch", CuratorRecipes::leaderLatch);
        SCENARIOS.put("leaderselector", CuratorRecipes::leaderSelector);
        SCENARIOS.put("barrier", CuratorRecipes::barrier);
        SCENARIOS.put("doublebarrier", CuratorRecipes::doubleBarrier);
        SCENARIOS.put("queue", CuratorRecipes::queue);
        SCENARIOS.put("priorityqueue", CuratorRecipes::priorityQueue);
        SCENARIOS.put("idqueue", CuratorRecipes::idQueue);
        SCENARIOS.put("sharedcount", CuratorRecipes::sharedCount);
        SCENARIOS.put("atomiclong", CuratorRecipes::atomicLong);
        SCENARIOS.put("atomicinteger", CuratorRecipes::atomicInteger);
        SCENARIOS.put("persistentwatcher", CuratorRecipes::persistentWatcher);
        SCENARIOS.put("curatorcache", CuratorRecipes::curatorCache);
        SCENARIOS.put("pathchildrencache", CuratorRecipes::pathChildrenCache);
        SCENARIOS.put("nodecache", CuratorRecipes::nodeCache);
        SCENARIOS.put("treecache", CuratorRecipes::treeCache);
        SCENARIOS.put("groupmember", CuratorRecipes::groupMember);
        SCENARIOS.put("persistentnode", CuratorRecipes::persistentNode);
        SCENARIOS.put("transaction", CuratorRecipes::transaction);
        SCENARIOS.put("containers", CuratorRecipes::containers);
        SCENARIOS.put("ttl", CuratorRecipes::ttl);
        SCENARIOS.put("persistentttlnode", CuratorRecipes::persistentTtlNode);
    }

    public static void main(String[] args) throws Exception {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.OFF); // Guava's Closeables warnings
        boolean ttl = false;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ttl" -> ttl = true;
                case "--only" -> only.add(args[++i]);
                case "--list" -> {
                    SCENARIOS.keySet().forEach(System.out::println);
                    System.exit(0);
                }
                default -> {
                    if (args[i].startsWith("--") || connect != null) {
                        System.err.println("usage: java -cp CLASSPATH CuratorRecipes.java HOST:PORT [--ttl] [--only NAME ...] [--list]");
                        System.exit(2);
                    }
                    connect = args[i];
                }
            }
        }
        if (connect == null) {
            System.err.println("usage: java -cp CLASSPATH CuratorRecipes.java HOST:PORT [--ttl] [--only NAME ...] [--list]");
            System.exit(2);
        }
        for (String name : only) {
            if (!SCENARIOS.containsKey(name)) {
                System.err.println("unknown scenario " + name);
                System.exit(2);
            }
        }
        try (CuratorFramework admin = newClient(connect)) {
            for (Map.Entry<String, Scenario> s : SCENARIOS.entrySet()) {
                String name = s.getKey();
                boolean selected = only.isEmpty() ? (ttl || !TTL_SCENARIOS.contains(name)) : only.contains(name);
                if (selected) {
                    runScenario(admin, name, s.getValue());
                }
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    static void runScenario(CuratorFramework admin, String name, Scenario scenario) {
        String root = "/curator-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
        Ctx ctx = new Ctx(name, root);
        try {
            admin.create().forPath(root);
            scenario.run(ctx);
        } catch (Throwable e) {
            ctx.fail(null, describe(e));
        }
        try {
            ctx.close();
            if (admin.checkExists().forPath(root) != null) {
                admin.delete().deletingChildrenIfNeeded().forPath(root);
            }
        } catch (Throwable e) {
            ctx.fail("cleanup", describe(e));
        }
    }

    static String describe(Throwable e) {
        if (e instanceof java.util.concurrent.ExecutionException && e.getCause() != null) {
            e = e.getCause();
        }
        String where = "";
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("CuratorRecipes")) {
                where = " (line " + f.getLineNumber() + ")";
                break;
            }
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage() + where;
    }

    // ------------------------------------------------------------------------------------------------
    // Scenario context: clients and recipes to close, the root, and PASS/FAIL reporting.

    static final class Ctx {
        final String name;
        final String root;
        final Deque<Closeable> toClose = new ArrayDeque<>();

        Ctx(String name, String root) {
            this.name = name;
            this.root = root;
        }

        String path(String rel) {
            return root + rel;
        }

        CuratorFramework client() throws Exception {
            return client(connect);
        }

        CuratorFramework client(String server) throws Exception {
            CuratorFramework c = newClient(server);
            toClose.push(c);
            return c;
        }

        <T extends Closeable> T track(T c) {
            toClose.push(c);
            return c;
        }

        /** Closes recipes and clients, newest first, quietly (as Curator's CloseableUtils.closeQuietly does). */
        void close() {
            while (!toClose.isEmpty()) {
                try {
                    toClose.pop().close();
                } catch (Exception e) {
                    // Closed already by the scenario, or its client is.
                }
            }
        }

        void check(String what, boolean ok, String reason) {
            if (ok) {
                passed++;
                System.out.println("PASS " + name + "." + what);
            } else {
                fail(what, reason);
            }
        }

        void check(String what, boolean ok) {
            check(what, ok, "condition is false");
        }

        void eq(String what, Object expected, Object actual) {
            boolean ok = expected == null ? actual == null : expected.equals(actual);
            check(what, ok, "expected <" + expected + ">, got <" + actual + ">");
        }

        void fail(String what, String reason) {
            failed++;
            System.out.println("FAIL " + name + (what == null ? "" : "." + what) + ": " + reason);
        }

        /** Takes expected.length items from events, in order; reports the first that differs. */
        void events(String what, BlockingQueue<String> events, String... expected) throws InterruptedException {
            List<String> got = new ArrayList<>();
            for (String e : expected) {
                String item = events.poll(WAIT_S, TimeUnit.SECONDS);
                got.add(item);
                if (!e.equals(item)) {
                    check(what, false, "expected " + Arrays.asList(expected) + ", got " + got
                            + (item == null ? " (then nothing for " + WAIT_S + " s)" : ""));
                    return;
                }
            }
            check(what, true);
        }

        String rel(String path) {
            return path == null ? null : path.startsWith(root) ? path.substring(root.length()) : path;
        }
    }

    static CuratorFramework newClient(String server) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(server)
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        c.start();
        if (!c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS)) {
            c.close();
            throw new IOException("no connection to " + server + " within " + WAIT_S + " s");
        }
        return c;
    }

    // ------------------------------------------------------------------------------------------------
    // Bounded waits on watches and on the client's event thread.

    static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
    }

    static boolean awaitLatch(CountDownLatch latch, long deadline) throws InterruptedException {
        long left = deadline - System.nanoTime();
        return left > 0 && latch.await(left, TimeUnit.NANOSECONDS);
    }

    /**
     * Children of path, none if it is missing. Curator makes the parents of recipe nodes containers, so once a
     * recipe's last node is gone the server may already have deleted the parent.
     */
    static List<String> children(CuratorFramework c, String path) throws Exception {
        try {
            return c.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /**
     * Children of path (none if it is missing) once ok accepts them, re-read whenever a child watch, or an exists
     * watch while the node is missing, fires.
     */
    static List<String> awaitChildren(CuratorFramework c, String path, Predicate<List<String>> ok) throws Exception {
        long deadline = deadline();
        List<String> last = null;
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            Watcher w = e -> changed.countDown();
            try {
                last = c.getChildren().usingWatcher(w).forPath(path);
                if (ok.test(last)) {
                    return last;
                }
            } catch (KeeperException.NoNodeException e) {
                last = List.of();
                if (ok.test(last)) {
                    return last;
                }
                if (c.checkExists().usingWatcher(w).forPath(path) != null) {
                    continue;
                }
            }
            if (!awaitLatch(changed, deadline)) {
                throw new TimeoutException("children of " + path + " still " + last + " after " + WAIT_S + " s");
            }
        }
    }

    /** The Stat of path once ok accepts it (null: no node), re-read whenever an exists watch fires. */
    static Stat awaitStat(CuratorFramework c, String path, Predicate<Stat> ok) throws Exception {
        long deadline = deadline();
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            Stat s = c.checkExists().usingWatcher((Watcher) e -> changed.countDown()).forPath(path);
            if (ok.test(s)) {
                return s;
            }
            if (!awaitLatch(changed, deadline)) {
                throw new TimeoutException(path + (s == null ? " still missing" : " still there") + " after " + WAIT_S + " s");
            }
        }
    }

    /** One request through c whose callback runs on c's event thread after everything queued before it. */
    static void roundTrip(CuratorFramework c) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        c.checkExists().inBackground((client, event) -> done.countDown()).forPath("/");
        if (!done.await(WAIT_S, TimeUnit.SECONDS)) {
            throw new TimeoutException("no reply to exists / within " + WAIT_S + " s");
        }
    }

    /**
     * For recipes whose state is only updated by callbacks on c's event thread and that offer no listener
     * (GroupMember): re-checks after each round trip through that thread, never after a sleep.
     */
    static boolean awaitView(CuratorFramework c, BooleanSupplier ok) throws Exception {
        long deadline = deadline();
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            roundTrip(c);
        }
        return true;
    }

    static <T> T get(Future<T> f) throws Exception {
        return f.get(WAIT_S, TimeUnit.SECONDS);
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    static String seqSuffix(String name) {
        return name.substring(name.length() - 10);
    }

    // ------------------------------------------------------------------------------------------------
    // Scenarios

    /**
     * Curator's default ensembleTracker(true) reads /zookeeper/config (getConfig with a watch) once connected, from
     * Curator's connection-state thread. A standalone server's config is empty, so the tracker must leave the
     * connection string alone and the client must keep working. The client's ZooKeeper handle reports when the
     * tracker's getConfig callback has run, so the checks come after the tracker has processed the config. (The
     * tracker reads it twice: once from start() and once on CONNECTED.)
     */
    static void ensembleTracker(Ctx ctx) throws Exception {
        BlockingQueue<String> configReads = new LinkedBlockingQueue<>();
        CuratorFramework c = ctx.track(CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .ensembleTracker(true)
                .zookeeperFactory((server, timeout, watcher, readOnly) -> new ZooKeeperAdmin(server, timeout, watcher, readOnly) {
                    @Override
                    public void getConfig(Watcher w, AsyncCallback.DataCallback cb, Object context) {
                        super.getConfig(w, (rc, path, cx, data, stat) -> {
                            cb.processResult(rc, path, cx, data, stat);
                            configReads.add(KeeperException.Code.get(rc) + (w != null ? " watched " : " unwatched ")
                                    + (data == null ? "no data" : "<" + s(data) + ">"));
                        }, context);
                    }
                })
                .build());
        c.start();
        ctx.check("connected", c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS), "not within " + WAIT_S + " s");
        String read = configReads.poll(WAIT_S, TimeUnit.SECONDS);
        ctx.eq("tracker reads the empty standalone config with a watch", "OK watched <>", read);
        ctx.eq("connection string kept", connect, c.getZookeeperClient().getCurrentConnectionString());
        ctx.check("tracker's config has no members", c.getCurrentConfig() != null
                && c.getCurrentConfig().getAllMembers().isEmpty(), "config " + (c.getCurrentConfig() == null
                ? null : c.getCurrentConfig().getAllMembers()));
        Stat stat = new Stat();
        byte[] config = c.getConfig().storingStatIn(stat).forEnsemble();
        ctx.eq("getConfig in the foreground", "", s(config));
        ctx.check("/zookeeper/config exists", c.checkExists().forPath("/zookeeper/config") != null, "no node");
        c.create().forPath(ctx.path("/n"), b("x"));
        ctx.eq("client keeps working", "x", s(c.getData().forPath(ctx.path("/n"))));
    }

    static void mutex(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String path = ctx.path("/lock");
        InterProcessMutex ma = new InterProcessMutex(a, path);
        InterProcessMutex mb = new InterProcessMutex(b, path);
        ctx.check("acquire", ma.acquire(WAIT_S, TimeUnit.SECONDS));
        ctx.check("reentrant acquire", ma.acquire(WAIT_S, TimeUnit.SECONDS));
        ctx.eq("one lock node for a reentrant hold", 1, a.getChildren().forPath(path).size());
        ctx.check("other client's timed acquire fails while held", !mb.acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        ma.release();
        ctx.check("still held after one of two releases", !mb.acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        ctx.check("owned by this thread", ma.isOwnedByCurrentThread());

        CountDownLatch acquiredB = new CountDownLatch(1);
        CountDownLatch releaseB = new CountDownLatch(1);
        Future<Boolean> waiter = POOL.submit(() -> {
            boolean ok = mb.acquire(WAIT_S, TimeUnit.SECONDS);
            if (ok) {
                acquiredB.countDown();
                releaseB.await(WAIT_S, TimeUnit.SECONDS);
                mb.release(); // an InterProcessMutex is released by the thread that holds it
            }
            return ok;
        });
        awaitChildren(a, path, kids -> kids.size() == 2);
        ctx.check("waiter blocks while held", !waiter.isDone());
        ma.release();
        ctx.check("waiter acquires when released", acquiredB.await(WAIT_S, TimeUnit.SECONDS), "not within " + WAIT_S + " s");
        ctx.check("first holder cannot take it back", !ma.acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        releaseB.countDown();
        ctx.check("waiter released", get(waiter));

        // Four threads on two clients, ten turns each, with a server round trip inside the critical section.
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        AtomicInteger turns = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (CuratorFramework c : List.of(a, a, b, b)) {
            workers.add(POOL.submit(() -> {
                InterProcessMutex m = new InterProcessMutex(c, path);
                for (int i = 0; i < 10; i++) {
                    if (!m.acquire(WAIT_S, TimeUnit.SECONDS)) {
                        throw new TimeoutException("acquire");
                    }
                    try {
                        maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        c.checkExists().forPath(path);
                        turns.incrementAndGet();
                        inside.decrementAndGet();
                    } finally {
                        m.release();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : workers) {
            get(f);
        }
        ctx.eq("mutual exclusion: most holders at once", 1, maxInside.get());
        ctx.eq("mutual exclusion: turns taken", 40, turns.get());
        ctx.eq("no lock nodes left", List.of(), children(a, path));
    }

    static void readWriteLock(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        CuratorFramework c = ctx.client();
        String path = ctx.path("/rw");
        InterProcessReadWriteLock la = new InterProcessReadWriteLock(a, path);
        InterProcessReadWriteLock lb = new InterProcessReadWriteLock(b, path);
        InterProcessReadWriteLock lc = new InterProcessReadWriteLock(c, path);
        ctx.check("first reader", la.readLock().acquire(WAIT_S, TimeUnit.SECONDS));
        ctx.check("readers share", lb.readLock().acquire(WAIT_S, TimeUnit.SECONDS));
        ctx.check("writer's timed acquire fails while read", !lc.writeLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS));

        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch releaseWriter = new CountDownLatch(1);
        AtomicReference<Boolean> writerAlsoReads = new AtomicReference<>();
        Future<Boolean> writer = POOL.submit(() -> {
            boolean ok = lc.writeLock().acquire(WAIT_S, TimeUnit.SECONDS);
            if (ok) {
                boolean reads = lc.readLock().acquire(WAIT_S, TimeUnit.SECONDS);
                writerAlsoReads.set(reads);
                if (reads) {
                    lc.readLock().release();
                }
                writing.countDown();
                releaseWriter.await(WAIT_S, TimeUnit.SECONDS);
                lc.writeLock().release();
            }
            return ok;
        });
        awaitChildren(a, path, kids -> kids.size() == 3);
        ctx.check("writer waits for readers", !writer.isDone());
        InterProcessReadWriteLock late = new InterProcessReadWriteLock(a, path);
        ctx.check("new reader queues behind the waiting writer", !late.readLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        la.readLock().release();
        lb.readLock().release();
        ctx.check("writer acquires once readers leave", writing.await(WAIT_S, TimeUnit.SECONDS));
        ctx.eq("write holder may also read", true, writerAlsoReads.get());
        ctx.check("writer excludes readers", !la.readLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        ctx.check("writer excludes writers", !lb.writeLock().acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        releaseWriter.countDown();
        ctx.check("writer released", get(writer));
        ctx.check("reader after writer", la.readLock().acquire(WAIT_S, TimeUnit.SECONDS));
        la.readLock().release();
        ctx.eq("no lock nodes left", List.of(), children(a, path));
    }

    static void semaphore(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String path = ctx.path("/sem");
        InterProcessSemaphoreV2 sa = new InterProcessSemaphoreV2(a, path, 3);
        InterProcessSemaphoreV2 sb = new InterProcessSemaphoreV2(b, path, 3);
        Collection<Lease> two = sa.acquire(2, WAIT_S, TimeUnit.SECONDS);
        ctx.check("two leases", two != null && two.size() == 2, "got " + two);
        Lease third = sb.acquire(WAIT_S, TimeUnit.SECONDS);
        ctx.check("third lease from another client", third != null, "none");
        Lease fourth = sb.acquire(SHORT_MS, TimeUnit.MILLISECONDS);
        ctx.check("max leases respected", fourth == null, "got a fourth lease " + (fourth == null ? null : fourth.getNodeName()));
        ctx.eq("participants", 3, sa.getParticipantNodes().size());

        Future<Lease> waiter = POOL.submit(() -> sb.acquire(WAIT_S, TimeUnit.SECONDS));
        awaitChildren(a, path + "/leases", kids -> kids.size() == 4);
        ctx.check("waiter blocks at the limit", !waiter.isDone());
        Lease returned = two.iterator().next();
        sa.returnLease(returned);
        Lease reused = get(waiter);
        ctx.check("returned lease is reused by the waiter", reused != null, "none");
        ctx.eq("participants after reuse", 3, sa.getParticipantNodes().size());
        List<Lease> rest = new ArrayList<>(two);
        rest.remove(returned);
        sa.returnAll(rest);
        sb.returnLease(third);
        sb.returnLease(reused);
        ctx.eq("no lease nodes left", List.of(), children(a, path + "/leases"));
        Collection<Lease> all = sa.acquire(3, WAIT_S, TimeUnit.SECONDS);
        ctx.check("all leases free again", all != null && all.size() == 3, "got " + all);
        sa.returnAll(all);
    }

    static void semaphoreMutex(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String path = ctx.path("/semmutex");
        InterProcessSemaphoreMutex ma = new InterProcessSemaphoreMutex(a, path);
        InterProcessSemaphoreMutex mb = new InterProcessSemaphoreMutex(b, path);
        ctx.check("acquire", ma.acquire(WAIT_S, TimeUnit.SECONDS));
        ctx.check("acquired in this process", ma.isAcquiredInThisProcess());
        ctx.check("other client's timed acquire fails", !mb.acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        ctx.check("not reentrant", !ma.acquire(SHORT_MS, TimeUnit.MILLISECONDS));
        Future<Boolean> waiter = POOL.submit(() -> mb.acquire(WAIT_S, TimeUnit.SECONDS));
        awaitChildren(a, path + "/leases", kids -> kids.size() == 2);
        ctx.check("waiter blocks", !waiter.isDone());
        ma.release();
        ctx.check("waiter acquires when released", get(waiter));
        ctx.check("released in the first process", !ma.isAcquiredInThisProcess());
        mb.release(); // not tied to a thread, unlike InterProcessMutex
        ctx.check("acquire again", ma.acquire(WAIT_S, TimeUnit.SECONDS));
        ma.release();
        ctx.eq("no lease nodes left", List.of(), children(a, path + "/leases"));
    }

    static void leaderLatch(Ctx ctx) throws Exception {
        String path = ctx.path("/latch");
        BlockingQueue<String> gained = new LinkedBlockingQueue<>();
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "p" + i;
            LeaderLatch l = ctx.track(new LeaderLatch(ctx.client(), path, id));
            l.addListener(new LeaderLatchListener() {
                public void isLeader() {
                    gained.add(id);
                }

                public void notLeader() {
                }
            });
            latches.add(l);
        }
        for (LeaderLatch l : latches) {
            l.start();
        }
        CuratorFramework observer = ctx.client();
        List<String> kids = awaitChildren(observer, path, k -> k.size() == 3);
        List<LeaderLatch> bySeq = new ArrayList<>(latches);
        // Every latch has its node now, but getOurPath() is set in the create callback: wait for that in order.
        for (int turn = 0; turn < 3; turn++) {
            String leader = gained.poll(WAIT_S, TimeUnit.SECONDS);
            List<LeaderLatch> open = latches.stream().filter(l -> l.getState() == LeaderLatch.State.STARTED).toList();
            kids = observer.getChildren().forPath(path);
            String lowest = kids.stream().min((x, y) -> seqSuffix(x).compareTo(seqSuffix(y))).orElse(null);
            LeaderLatch expected = open.stream().filter(l -> l.getOurPath() != null && l.getOurPath().endsWith("/" + lowest))
                    .findFirst().orElse(null);
            ctx.eq("leader " + (turn + 1) + " holds the lowest sequence node", expected == null ? "?" + lowest : expected.getId(), leader);
            ctx.eq("leader " + (turn + 1) + " is the only one", 1L, open.stream().filter(LeaderLatch::hasLeadership).count());
            for (LeaderLatch l : open) {
                ctx.eq("leader " + (turn + 1) + " seen by " + l.getId(), leader, l.getLeader().getId());
            }
            ctx.eq("participants at turn " + (turn + 1), 3 - turn, open.get(0).getParticipants().size());
            LeaderLatch leaving = latches.stream().filter(l -> l.getId().equals(leader)).findFirst().orElseThrow();
            leaving.close(); // leadership moves to the next node in sequence order
        }
        ctx.check("no further leader", gained.isEmpty(), "also " + gained);
        awaitChildren(observer, path, List::isEmpty); // LeaderLatch.close() deletes its node in the background
        ctx.check("no latch nodes left", true);
    }

    static void leaderSelector(Ctx ctx) throws Exception {
        String path = ctx.path("/selector");
        BlockingQueue<String> turns = new LinkedBlockingQueue<>();
        Map<String, BlockingQueue<Object>> go = new ConcurrentHashMap<>();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        List<LeaderSelector> selectors = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "s" + i;
            go.put(id, new LinkedBlockingQueue<>());
            LeaderSelector sel = new LeaderSelector(ctx.client(), path, new LeaderSelectorListenerAdapter() {
                public void takeLeadership(CuratorFramework client) throws Exception {
                    maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    try {
                        turns.add(id);
                        go.get(id).take();
                    } finally {
                        inside.decrementAndGet();
                    }
                }
            });
            sel.setId(id);
            sel.autoRequeue();
            selectors.add(ctx.track(sel));
        }
        for (LeaderSelector sel : selectors) {
            sel.start();
        }
        CuratorFramework observer = ctx.client();
        List<String> order = new ArrayList<>();
        for (int turn = 0; turn < 6; turn++) {
            String leader = turns.poll(WAIT_S, TimeUnit.SECONDS);
            if (leader == null) {
                ctx.fail("turns", "no leader for turn " + (turn + 1) + " within " + WAIT_S + " s, so far " + order);
                return;
            }
            order.add(leader);
            // All three are queued before the leader lets go, so the next turn is the next in line.
            awaitChildren(observer, path, k -> k.size() == 3);
            long holding = selectors.stream().filter(LeaderSelector::hasLeadership).count();
            if (holding != 1) {
                ctx.fail("one leader at a time", holding + " selectors have leadership at turn " + (turn + 1));
            }
            if (turn == 0) {
                ctx.eq("participants", 3, selectors.get(0).getParticipants().size());
                ctx.eq("leader seen by all", Set.of(leader),
                        selectors.stream().map(sel -> {
                            try {
                                return sel.getLeader().getId();
                            } catch (Exception e) {
                                return e.toString();
                            }
                        }).collect(Collectors.toSet()));
            }
            go.get(leader).add(Boolean.TRUE);
        }
        ctx.eq("one leader at a time", 1, maxInside.get());
        boolean roundRobin = new HashSet<>(order.subList(0, 3)).size() == 3 && order.subList(0, 3).equals(order.subList(3, 6));
        ctx.check("takes turns in queue order", roundRobin, "turns " + order);
    }

    static void barrier(Ctx ctx) throws Exception {
        String path = ctx.path("/barrier");
        DistributedBarrier setter = new DistributedBarrier(ctx.client(), path);
        DistributedBarrier w1 = new DistributedBarrier(ctx.client(), path);
        DistributedBarrier w2 = new DistributedBarrier(ctx.client(), path);
        ctx.check("no barrier: wait returns at once", w1.waitOnBarrier(WAIT_S, TimeUnit.SECONDS));
        setter.setBarrier();
        ctx.check("timed wait fails while set", !w1.waitOnBarrier(SHORT_MS, TimeUnit.MILLISECONDS));
        Future<Boolean> f1 = POOL.submit(() -> w1.waitOnBarrier(WAIT_S, TimeUnit.SECONDS));
        Future<Boolean> f2 = POOL.submit(() -> w2.waitOnBarrier(WAIT_S, TimeUnit.SECONDS));
        ctx.check("waiters block while set", !f1.isDone() && !f2.isDone());
        setter.removeBarrier();
        ctx.check("waiters pass once removed", get(f1) && get(f2));
    }

    static void doubleBarrier(Ctx ctx) throws Exception {
        String path = ctx.path("/double");
        List<DistributedDoubleBarrier> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(new DistributedDoubleBarrier(ctx.client(), path, 3));
        }
        CuratorFramework observer = ctx.client();
        List<Future<Boolean>> entered = new ArrayList<>();
        entered.add(POOL.submit(() -> members.get(0).enter(WAIT_S, TimeUnit.SECONDS)));
        entered.add(POOL.submit(() -> members.get(1).enter(WAIT_S, TimeUnit.SECONDS)));
        awaitChildren(observer, path, k -> k.size() == 2);
        ctx.check("two of three wait to enter", !entered.get(0).isDone() && !entered.get(1).isDone());
        entered.add(POOL.submit(() -> members.get(2).enter(WAIT_S, TimeUnit.SECONDS)));
        boolean all = true;
        for (Future<Boolean> f : entered) {
            all &= get(f);
        }
        ctx.check("all three enter", all);
        List<String> kids = observer.getChildren().forPath(path);
        ctx.check("ready node and three members", kids.size() == 4 && kids.contains("ready"), "children " + kids);
        List<Future<Boolean>> left = new ArrayList<>();
        for (DistributedDoubleBarrier m : members) {
            left.add(POOL.submit(() -> m.leave(WAIT_S, TimeUnit.SECONDS)));
        }
        all = true;
        for (Future<Boolean> f : left) {
            all &= get(f);
        }
        ctx.check("all three leave", all);
        ctx.eq("barrier empty after leaving", List.of(), children(observer, path));
    }

    static final QueueSerializer<String> STRINGS = new QueueSerializer<>() {
        public byte[] serialize(String item) {
            return b(item);
        }

        public String deserialize(byte[] bytes) {
            return s(bytes);
        }
    };

    static QueueConsumer<String> into(BlockingQueue<String> sink) {
        return new QueueConsumer<>() {
            public void consumeMessage(String message) {
                sink.add(message);
            }

            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        };
    }

    static List<String> take(BlockingQueue<String> q, int n) throws InterruptedException {
        List<String> got = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String item = q.poll(WAIT_S, TimeUnit.SECONDS);
            if (item == null) {
                break;
            }
            got.add(item);
        }
        return got;
    }

    static void queue(Ctx ctx) throws Exception {
        String path = ctx.path("/queue");
        BlockingQueue<String> consumed = new LinkedBlockingQueue<>();
        DistributedQueue<String> producer = ctx.track(QueueBuilder.builder(ctx.client(), null, STRINGS, path)
                .putInBackground(false).buildQueue());
        producer.start();
        DistributedQueue<String> consumer = ctx.track(QueueBuilder.builder(ctx.client(), into(consumed), STRINGS, path)
                .buildQueue());
        consumer.start();
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            items.add("item-" + i);
            producer.put("item-" + i);
        }
        ctx.eq("consumed in order", items, take(consumed, items.size()));
        CuratorFramework observer = ctx.client();
        awaitChildren(observer, path, List::isEmpty);
        ctx.check("queue empty after consuming", true);
    }

    static void priorityQueue(Ctx ctx) throws Exception {
        String path = ctx.path("/pqueue");
        BlockingQueue<String> consumed = new LinkedBlockingQueue<>();
        DistributedPriorityQueue<String> producer = ctx.track(QueueBuilder.builder(ctx.client(), null, STRINGS, path)
                .putInBackground(false).buildPriorityQueue(0));
        producer.start();
        producer.put("a", 5);
        producer.put("b", 1);
        producer.put("c", 5);
        producer.put("d", -3);
        producer.put("e", 9);
        DistributedPriorityQueue<String> consumer = ctx.track(QueueBuilder.builder(ctx.client(), into(consumed), STRINGS, path)
                .buildPriorityQueue(0));
        consumer.start();
        ctx.eq("consumed by priority, then in order", List.of("d", "b", "a", "c", "e"), take(consumed, 5));
    }

    static void idQueue(Ctx ctx) throws Exception {
        String path = ctx.path("/idqueue");
        BlockingQueue<String> consumed = new LinkedBlockingQueue<>();
        DistributedIdQueue<String> producer = ctx.track(QueueBuilder.builder(ctx.client(), null, STRINGS, path)
                .putInBackground(false).buildIdQueue());
        producer.start();
        producer.put("x", "id-1");
        producer.put("y", "id-2");
        producer.put("z", "id-3");
        ctx.eq("remove by id", 1, producer.remove("id-2"));
        DistributedIdQueue<String> consumer = ctx.track(QueueBuilder.builder(ctx.client(), into(consumed), STRINGS, path)
                .buildIdQueue());
        consumer.start();
        ctx.eq("rest consumed in order", List.of("x", "z"), take(consumed, 2));
    }

    static SharedCountListener countsInto(BlockingQueue<Integer> sink) {
        return new SharedCountListener() {
            public void countHasChanged(SharedCountReader reader, int newCount) {
                sink.add(newCount);
            }

            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        };
    }

    /** Waits until the listener reports expected (it may skip or repeat intermediate values). */
    static boolean awaitCount(BlockingQueue<Integer> q, int expected) throws InterruptedException {
        long deadline = deadline();
        while (true) {
            long left = deadline - System.nanoTime();
            Integer v = left > 0 ? q.poll(left, TimeUnit.NANOSECONDS) : null;
            if (v == null) {
                return false;
            }
            if (v == expected) {
                return true;
            }
        }
    }

    static void sharedCount(Ctx ctx) throws Exception {
        String path = ctx.path("/count");
        CuratorFramework a = ctx.client();
        SharedCount ca = ctx.track(new SharedCount(a, path, 0));
        SharedCount cb = ctx.track(new SharedCount(ctx.client(), path, 0));
        BlockingQueue<Integer> seenByA = new LinkedBlockingQueue<>();
        BlockingQueue<Integer> seenByB = new LinkedBlockingQueue<>();
        ca.addListener(countsInto(seenByA));
        cb.addListener(countsInto(seenByB));
        ca.start();
        cb.start();
        VersionedValue<Integer> v0 = ca.getVersionedValue();
        ctx.eq("initial value", 0, v0.getValue());
        ctx.check("trySetCount with current version", ca.trySetCount(v0, 5));
        ctx.check("other listener sees 5", awaitCount(seenByB, 5), "not reported within " + WAIT_S + " s");
        ctx.check("trySetCount with a stale version fails", !ca.trySetCount(v0, 6));
        ctx.eq("value after the failed try", 5, ca.getCount());
        ctx.eq("version after one set", 1, ca.getVersionedValue().getVersion());
        ctx.check("trySetCount from the other client", cb.trySetCount(cb.getVersionedValue(), 7));
        ctx.check("first listener sees 7", awaitCount(seenByA, 7), "not reported within " + WAIT_S + " s");
        ca.setCount(10);
        ctx.check("other listener sees 10", awaitCount(seenByB, 10), "not reported within " + WAIT_S + " s");
        Stat stat = new Stat();
        byte[] raw = a.getData().storingStatIn(stat).forPath(path);
        ctx.eq("stored as a 4-byte int", 10, raw.length == 4 ? java.nio.ByteBuffer.wrap(raw).getInt() : -raw.length);
        ctx.eq("znode version", 3, stat.getVersion());
    }

    static void atomicLong(Ctx ctx) throws Exception {
        String path = ctx.path("/long");
        List<CuratorFramework> clients = List.of(ctx.client(), ctx.client(), ctx.client());
        ctx.check("initialize", new DistributedAtomicLong(clients.get(0), path, new RetryNTimes(0, 0)).initialize(0L));
        ctx.check("initialize twice fails", !new DistributedAtomicLong(clients.get(1), path, new RetryNTimes(0, 0)).initialize(5L));
        Set<Long> postValues = ConcurrentHashMap.newKeySet();
        AtomicInteger bad = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (CuratorFramework c : clients) {
            for (int t = 0; t < 3; t++) {
                workers.add(POOL.submit(() -> {
                    DistributedAtomicLong counter = new DistributedAtomicLong(c, path, new ExponentialBackoffRetry(1, 29, 20));
                    long deadline = deadline();
                    for (int i = 0; i < 20; i++) {
                        AtomicValue<Long> r;
                        do {
                            if (System.nanoTime() > deadline) {
                                throw new TimeoutException("increment");
                            }
                            r = counter.increment();
                        } while (!r.succeeded());
                        if (r.postValue() != r.preValue() + 1 || !postValues.add(r.postValue())) {
                            bad.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : workers) {
            get(f);
        }
        DistributedAtomicLong reader = new DistributedAtomicLong(clients.get(0), path, new RetryNTimes(0, 0));
        ctx.eq("increments from nine threads add up", 180L, reader.get().postValue());
        ctx.eq("every increment saw its own value", 0, bad.get());
        ctx.check("post-values are 1..180", postValues.size() == 180 && Collections.max(postValues) == 180L
                && Collections.min(postValues) == 1L, postValues.size() + " distinct values");
        ctx.check("compareAndSet right", reader.compareAndSet(180L, 1000L).succeeded());
        ctx.check("compareAndSet wrong", !reader.compareAndSet(180L, 1L).succeeded());
        ctx.eq("value", 1000L, reader.get().postValue());
    }

    static void atomicInteger(Ctx ctx) throws Exception {
        String path = ctx.path("/int");
        String lockPath = ctx.path("/int-lock");
        List<CuratorFramework> clients = List.of(ctx.client(), ctx.client(), ctx.client());
        List<Future<?>> workers = new ArrayList<>();
        for (CuratorFramework c : clients) {
            for (int t = 0; t < 2; t++) {
                workers.add(POOL.submit(() -> {
                    // No optimistic retries: a conflict is promoted to the lock at once. Other threads' optimistic
                    // attempts do not take the lock, so even under it an attempt can lose and must be repeated.
                    DistributedAtomicInteger counter = new DistributedAtomicInteger(c, path, new RetryNTimes(0, 0),
                            PromotedToLock.builder().lockPath(lockPath).retryPolicy(new RetryNTimes(3, 1))
                                    .timeout(WAIT_S, TimeUnit.SECONDS).build());
                    long deadline = deadline();
                    for (int i = 0; i < 10; i++) {
                        while (!counter.add(2).succeeded()) {
                            if (System.nanoTime() > deadline) {
                                throw new TimeoutException("add");
                            }
                        }
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : workers) {
            get(f);
        }
        DistributedAtomicInteger reader = new DistributedAtomicInteger(clients.get(0), path, new RetryNTimes(0, 0));
        ctx.eq("adds from six threads add up (promoted to lock)", 120, reader.get().postValue());
        ctx.check("decrement", reader.decrement().succeeded());
        ctx.eq("value", 119, reader.get().postValue());
        ctx.eq("no lock nodes left", List.of(), children(clients.get(0), lockPath));
    }

    /** Curator's own recipe over addWatch: PERSISTENT_RECURSIVE and PERSISTENT, and removing one with removeWatches. */
    static void persistentWatcher(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String rec = ctx.path("/rec");
        String flat = ctx.path("/flat");
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Watcher record = e -> {
            if (e.getType() != EventType.None) {
                events.add(e.getType() + " " + ctx.rel(e.getPath()));
            }
        };
        CountDownLatch armed = new CountDownLatch(2);
        PersistentWatcher recursive = ctx.track(new PersistentWatcher(a, rec, true));
        PersistentWatcher plain = ctx.track(new PersistentWatcher(a, flat, false));
        for (PersistentWatcher w : List.of(recursive, plain)) {
            w.getListenable().addListener(record);
            w.getResetListenable().addListener(armed::countDown);
            w.start();
        }
        ctx.check("addWatch answered", armed.await(WAIT_S, TimeUnit.SECONDS), "no reset callback within " + WAIT_S + " s");
        b.create().forPath(rec);
        b.create().forPath(rec + "/x", b("0"));
        b.create().forPath(rec + "/x/y");
        b.setData().forPath(rec + "/x", b("1"));
        b.delete().forPath(rec + "/x/y");
        ctx.events("recursive", events, "NodeCreated /rec", "NodeCreated /rec/x", "NodeCreated /rec/x/y",
                "NodeDataChanged /rec/x", "NodeDeleted /rec/x/y");
        b.create().forPath(flat);
        b.create().forPath(flat + "/c");
        b.setData().forPath(flat + "/c", b("1"));
        b.setData().forPath(flat, b("1"));
        ctx.events("persistent", events, "NodeCreated /flat", "NodeChildrenChanged /flat", "NodeDataChanged /flat");
        recursive.close(); // removeWatches in the background: a round trip later it has been answered
        roundTrip(a);
        b.create().forPath(rec + "/after");
        b.setData().forPath(flat, b("2"));
        ctx.events("removed recursive watch fires no more", events, "NodeDataChanged /flat");
    }

    static void curatorCache(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String base = ctx.path("/cc");
        a.create().forPath(base, b("r0"));
        a.create().forPath(base + "/a", b("a0"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CuratorCacheListener listener = CuratorCacheListener.builder()
                .forCreates(d -> events.add("create " + ctx.rel(d.getPath()) + " " + s(d.getData())))
                .forChanges((old, d) -> events.add("change " + ctx.rel(d.getPath()) + " " + s(old.getData()) + "->" + s(d.getData())))
                .forDeletes(d -> events.add("delete " + ctx.rel(d.getPath())))
                .forInitialized(() -> events.add("initialized"))
                .build();
        CuratorCache cache = ctx.track(CuratorCache.build(a, base));
        cache.listenable().addListener(listener);
        cache.start();
        List<String> initial = take(events, 3);
        ctx.check("initial load", initial.size() == 3 && initial.get(2).equals("initialized")
                && new TreeSet<>(initial.subList(0, 2)).equals(new TreeSet<>(List.of("create /cc r0", "create /cc/a a0"))),
                "got " + initial);
        b.create().forPath(base + "/b", b("b0"));
        ctx.events("child created", events, "create /cc/b b0");
        b.create().forPath(base + "/b/c", b("c0"));
        ctx.events("grandchild created", events, "create /cc/b/c c0");
        b.create().forPath(base + "/b/c/d", b("d0"));
        ctx.events("great-grandchild created", events, "create /cc/b/c/d d0");
        b.setData().forPath(base + "/b/c", b("c1"));
        ctx.events("grandchild changed", events, "change /cc/b/c c0->c1");
        b.setData().forPath(base, b("r1"));
        ctx.events("root changed", events, "change /cc r0->r1");
        b.delete().forPath(base + "/b/c/d");
        ctx.events("great-grandchild deleted", events, "delete /cc/b/c/d");
        b.delete().deletingChildrenIfNeeded().forPath(base + "/b");
        ctx.events("subtree deleted", events, "delete /cc/b/c", "delete /cc/b");
        b.delete().forPath(base + "/a");
        ctx.events("child deleted", events, "delete /cc/a");
        ctx.eq("cache holds only the root", 1, cache.size());
        ctx.eq("cached root data", "r1", cache.get(base).map(d -> s(d.getData())).orElse(null));
        b.delete().forPath(base);
        ctx.events("root deleted", events, "delete /cc");
        b.create().forPath(base, b("r2"));
        ctx.events("root re-created (the recursive watch outlives its node)", events, "create /cc r2");
    }

    static void pathChildrenCache(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String base = ctx.path("/pcc");
        a.create().forPath(base);
        a.create().forPath(base + "/a", b("a0"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        PathChildrenCache cache = ctx.track(new PathChildrenCache(a, base, true));
        cache.getListenable().addListener((client, e) -> {
            switch (e.getType()) {
                case CHILD_ADDED, CHILD_UPDATED, CHILD_REMOVED ->
                        events.add(e.getType() + " " + ctx.rel(e.getData().getPath()) + " " + s(e.getData().getData()));
                case INITIALIZED -> events.add("INITIALIZED");
                default -> { }
            }
        });
        cache.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
        ctx.events("initial load", events, "CHILD_ADDED /pcc/a a0", "INITIALIZED");
        b.create().forPath(base + "/b", b("b0"));
        ctx.events("child added", events, "CHILD_ADDED /pcc/b b0");
        b.setData().forPath(base + "/b", b("b1"));
        ctx.events("child updated", events, "CHILD_UPDATED /pcc/b b1");
        b.create().forPath(base + "/b/deeper");
        b.delete().forPath(base + "/a");
        ctx.events("child removed, grandchild ignored", events, "CHILD_REMOVED /pcc/a a0");
        ctx.eq("current children", List.of(base + "/b"),
                cache.getCurrentData().stream().map(ChildData::getPath).toList());
    }

    static void nodeCache(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String path = ctx.path("/node");
        a.create().forPath(path, b("v1"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        NodeCache cache = ctx.track(new NodeCache(a, path));
        cache.getListenable().addListener(() -> {
            ChildData d = cache.getCurrentData();
            events.add(d == null ? "gone" : s(d.getData()));
        });
        cache.start(true);
        ctx.eq("initial data", "v1", cache.getCurrentData() == null ? null : s(cache.getCurrentData().getData()));
        b.setData().forPath(path, b("v2"));
        ctx.events("changed", events, "v2");
        b.delete().forPath(path);
        ctx.events("deleted", events, "gone");
        b.create().forPath(path, b("v3"));
        ctx.events("re-created", events, "v3");
    }

    static void treeCache(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework b = ctx.client();
        String base = ctx.path("/tc");
        a.create().forPath(base, b("t0"));
        a.create().forPath(base + "/a", b("a0"));
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TreeCache cache = ctx.track(TreeCache.newBuilder(a, base).setCacheData(true).build());
        cache.getListenable().addListener((client, e) -> {
            switch (e.getType()) {
                case NODE_ADDED, NODE_UPDATED, NODE_REMOVED ->
                        events.add(e.getType() + " " + ctx.rel(e.getData().getPath()) + " " + s(e.getData().getData()));
                case INITIALIZED -> events.add("INITIALIZED");
                default -> { }
            }
        });
        cache.start();
        List<String> initial = take(events, 3);
        ctx.check("initial load", initial.size() == 3 && initial.get(2).equals("INITIALIZED")
                && new TreeSet<>(initial.subList(0, 2)).equals(new TreeSet<>(List.of("NODE_ADDED /tc t0", "NODE_ADDED /tc/a a0"))),
                "got " + initial);
        b.create().forPath(base + "/b", b("b0"));
        ctx.events("child added", events, "NODE_ADDED /tc/b b0");
        b.create().forPath(base + "/b/c", b("c0"));
        ctx.events("grandchild added", events, "NODE_ADDED /tc/b/c c0");
        b.setData().forPath(base + "/b/c", b("c1"));
        ctx.events("grandchild updated", events, "NODE_UPDATED /tc/b/c c1");
        b.delete().forPath(base + "/b/c");
        ctx.events("grandchild removed", events, "NODE_REMOVED /tc/b/c c1");
        Map<String, ChildData> kids = cache.getCurrentChildren(base);
        ctx.eq("current children", Set.of("a", "b"), kids == null ? null : kids.keySet());
        ChildData bData = cache.getCurrentData(base + "/b");
        ctx.eq("cached data", "b0", bData == null ? null : s(bData.getData()));
    }

    static void groupMember(Ctx ctx) throws Exception {
        String path = ctx.path("/group");
        List<CuratorFramework> clients = List.of(ctx.client(), ctx.client(), ctx.client());
        List<GroupMember> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            GroupMember m = ctx.track(new GroupMember(clients.get(i), path, "m" + i, b("d" + i)));
            members.add(m);
            m.start();
        }
        // The members' caches use a persistent recursive watch on path. Apache ZooKeeper 3.8.0 drops that watch when
        // the same session also sets a one-shot watch on path (ZOOKEEPER-4466, fixed in 3.9), so the watches that
        // wait here come from another client.
        CuratorFramework observer = ctx.client();
        awaitChildren(observer, path, k -> k.size() == 3);
        ctx.eq("member nodes", Set.of("m0", "m1", "m2"), new HashSet<>(observer.getChildren().forPath(path)));
        Map<String, String> expected = Map.of("m0", "d0", "m1", "d1", "m2", "d2");
        AtomicReference<Map<String, String>> view = new AtomicReference<>();
        BooleanSupplier sees = () -> {
            Map<String, String> v = new TreeMap<>();
            members.get(0).getCurrentMembers().forEach((k, d) -> v.put(k, s(d)));
            view.set(v);
            return v.equals(expected);
        };
        ctx.check("every member seen with its data", awaitView(clients.get(0), sees), "view " + view.get());
        // setThisData refuses until the member's own client has run its create's callback, which may still be on
        // its way when others already see the node: a round trip through that client's event thread comes after it.
        roundTrip(clients.get(1));
        members.get(1).setThisData(b("d1-new"));
        Map<String, String> changed = Map.of("m0", "d0", "m1", "d1-new", "m2", "d2");
        awaitStat(observer, path + "/m1", st -> st != null && st.getVersion() == 1);
        ctx.check("changed data seen", awaitView(clients.get(0), () -> {
            Map<String, String> v = new TreeMap<>();
            members.get(0).getCurrentMembers().forEach((k, d) -> v.put(k, s(d)));
            view.set(v);
            return v.equals(changed);
        }), "view " + view.get());
        members.get(2).close();
        awaitStat(observer, path + "/m2", st -> st == null);
        ctx.check("member that left is gone", awaitView(clients.get(0), () -> {
            Map<String, byte[]> v = members.get(0).getCurrentMembers();
            view.set(new TreeMap<>(v.keySet().stream().collect(Collectors.toMap(k -> k, k -> s(v.get(k))))));
            return v.keySet().equals(Set.of("m0", "m1"));
        }), "view " + view.get());
        ctx.toClose.remove(members.get(1));
        clients.get(1).close(); // m1's session ends: its ephemeral goes with it
        awaitStat(observer, path + "/m1", st -> st == null);
        ctx.check("member whose session closed is gone", awaitView(clients.get(0), () -> {
            Map<String, byte[]> v = members.get(0).getCurrentMembers();
            view.set(new TreeMap<>(v.keySet().stream().collect(Collectors.toMap(k -> k, k -> s(v.get(k))))));
            return v.keySet().equals(Set.of("m0"));
        }), "view " + view.get());
    }

    /**
     * An ephemeral PersistentNode: created, re-created after another client deletes it, and re-created under a
     * new session after its session is closed by the server while its client is cut off (through a proxy).
     */
    static void persistentNode(Ctx ctx) throws Exception {
        String path = ctx.path("/pen");
        CuratorFramework observer = ctx.client();
        String[] hostPort = connect.split(":");
        Proxy proxy = ctx.track(new Proxy(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]))));
        String viaProxy = "127.0.0.1:" + proxy.port();
        CuratorFramework owner = ctx.client(viaProxy);
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        owner.getConnectionStateListenable().addListener((c, st) -> states.add(st));
        PersistentNode node = ctx.track(new PersistentNode(owner, CreateMode.EPHEMERAL, false, path, b("p0")));
        node.start();
        ctx.check("initial create", node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        long session1 = sessionId(owner);
        Stat st = observer.checkExists().forPath(path);
        ctx.check("ephemeral of its session", st != null && st.getEphemeralOwner() == session1,
                "stat " + (st == null ? null : Long.toHexString(st.getEphemeralOwner())) + " vs " + Long.toHexString(session1));

        observer.delete().forPath(path);
        st = awaitStat(observer, path, x -> x != null);
        ctx.check("re-created after another client deletes it", st.getEphemeralOwner() == session1,
                "owner " + Long.toHexString(st.getEphemeralOwner()));
        node.setData(b("p1")); // sent in the background
        awaitStat(observer, path, x -> x != null && x.getVersion() == 1);
        ctx.eq("setData", "p1", s(observer.getData().forPath(path)));

        // Cut the owner off, then end its session on the server from a second handle with the same id and password.
        byte[] password = owner.getZookeeperClient().getZooKeeper().getSessionPasswd();
        proxy.pause();
        ctx.check("owner suspended", awaitState(states, ConnectionState.SUSPENDED), "no SUSPENDED within " + WAIT_S + " s");
        CountDownLatch killerConnected = new CountDownLatch(1);
        ZooKeeper killer = new ZooKeeper(connect, 10000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                killerConnected.countDown();
            }
        }, session1, password);
        ctx.check("second handle attaches to the session", killerConnected.await(WAIT_S, TimeUnit.SECONDS)
                && killer.getSessionId() == session1, "not connected within " + WAIT_S + " s");
        killer.close();
        awaitStat(observer, path, x -> x == null);
        ctx.check("ephemeral gone with the closed session", true);
        proxy.resume();
        ctx.check("owner learns its session expired", awaitState(states, ConnectionState.LOST), "no LOST within " + WAIT_S + " s");
        ctx.check("owner reconnects with a new session", awaitState(states, ConnectionState.RECONNECTED),
                "no RECONNECTED within " + WAIT_S + " s");
        long session2 = sessionId(owner);
        st = awaitStat(observer, path, x -> x != null);
        ctx.check("re-created under the new session", session2 != session1 && st.getEphemeralOwner() == session2,
                "owner " + Long.toHexString(st.getEphemeralOwner()) + ", sessions " + Long.toHexString(session1)
                        + " then " + Long.toHexString(session2));
        ctx.eq("data kept", "p1", s(observer.getData().forPath(path)));
        node.close();
        ctx.check("deleted on close", observer.checkExists().forPath(path) == null, "still there");
    }

    /** Waits for want; the states before it (the initial CONNECTED, which is delivered late) are skipped. */
    static boolean awaitState(BlockingQueue<ConnectionState> states, ConnectionState want) throws InterruptedException {
        long deadline = deadline();
        while (true) {
            long left = deadline - System.nanoTime();
            ConnectionState st = left > 0 ? states.poll(left, TimeUnit.NANOSECONDS) : null;
            if (st == null || st == want) {
                return st == want;
            }
        }
    }

    static void transaction(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        String root = ctx.root;
        a.create().forPath(root + "/old", b("o"));
        List<CuratorOp> ops = List.of(
                a.transactionOp().create().forPath(root + "/t", b("1")),
                a.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(root + "/seq-", b("s")),
                a.transactionOp().setData().withVersion(0).forPath(root + "/t", b("2")),
                a.transactionOp().check().withVersion(1).forPath(root + "/t"),
                a.transactionOp().delete().withVersion(0).forPath(root + "/old"));
        List<CuratorTransactionResult> results = a.transaction().forOperations(ops);
        ctx.eq("result types", List.of(OperationType.CREATE, OperationType.CREATE, OperationType.SET_DATA, OperationType.CHECK,
                OperationType.DELETE), results.stream().map(CuratorTransactionResult::getType).toList());
        ctx.eq("create result path", root + "/t", results.get(0).getResultPath());
        String seqPath = results.get(1).getResultPath();
        ctx.check("sequential result path", seqPath != null && seqPath.matches(java.util.regex.Pattern.quote(root) + "/seq-\\d{10}"),
                "got " + seqPath);
        Stat setStat = results.get(2).getResultStat();
        ctx.eq("setData result version", 1, setStat == null ? null : setStat.getVersion());
        ctx.eq("no errors", List.of(0, 0, 0, 0, 0), results.stream().map(CuratorTransactionResult::getError).toList());
        ctx.eq("applied: data", "2", s(a.getData().forPath(root + "/t")));
        ctx.check("applied: delete", a.checkExists().forPath(root + "/old") == null, "still there");

        // Failing in the foreground: the exception carries per-op results; nothing is applied.
        List<CuratorOp> failing = List.of(
                a.transactionOp().create().forPath(root + "/n1", b("x")),
                a.transactionOp().setData().withVersion(99).forPath(root + "/t", b("3")),
                a.transactionOp().create().forPath(root + "/n2", b("y")));
        try {
            a.transaction().forOperations(failing);
            ctx.fail("failing transaction throws", "no exception");
        } catch (KeeperException.BadVersionException e) {
            ctx.check("failing transaction throws BadVersion", true);
            List<OpResult> per = e.getResults();
            ctx.eq("per-op results (rolled back, bad version, runtime inconsistency)", List.of(0, -103, -2),
                    per == null ? null : per.stream().map(r -> r instanceof OpResult.ErrorResult er ? er.getErr() : 1000 + r.getType()).toList());
        }
        ctx.check("rolled back: first create", a.checkExists().forPath(root + "/n1") == null, "exists");
        ctx.check("rolled back: last create", a.checkExists().forPath(root + "/n2") == null, "exists");
        ctx.eq("rolled back: data", "2", s(a.getData().forPath(root + "/t")));

        // Failing in the background: the event has the error and Curator's per-op results.
        BlockingQueue<CuratorEvent> done = new LinkedBlockingQueue<>();
        a.transaction().inBackground((client, event) -> done.add(event)).forOperations(
                a.transactionOp().create().forPath(root + "/n3"),
                a.transactionOp().check().withVersion(5).forPath(root + "/t"));
        CuratorEvent event = done.poll(WAIT_S, TimeUnit.SECONDS);
        ctx.check("background result", event != null, "no callback within " + WAIT_S + " s");
        if (event != null) {
            ctx.eq("background result code", KeeperException.Code.BADVERSION.intValue(), event.getResultCode());
            ctx.eq("background per-op errors", List.of(0, -103), event.getOpResults() == null ? null
                    : event.getOpResults().stream().map(CuratorTransactionResult::getError).toList());
            ctx.eq("background per-op types", List.of(OperationType.CREATE, OperationType.CHECK), event.getOpResults() == null ? null
                    : event.getOpResults().stream().map(CuratorTransactionResult::getType).toList());
        }
        ctx.check("rolled back: background create", a.checkExists().forPath(root + "/n3") == null, "exists");
    }

    static void containers(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        String c1 = ctx.path("/c1");
        String c2 = c1 + "/c2";
        String idle = ctx.path("/idle");
        a.create().withMode(CreateMode.CONTAINER).forPath(idle);
        a.create().creatingParentContainersIfNeeded().forPath(c2 + "/leaf", b("x"));
        ctx.check("parents created", a.checkExists().forPath(c2) != null, "no " + c2);
        CuratorFramework other = ctx.client();
        other.delete().forPath(c2 + "/leaf");
        // Nothing tells a client that the container manager ran; exists watches see its deletes (NodeDeleted).
        awaitStat(a, c2, st -> st == null);
        ctx.check("emptied container deleted by the server", true);
        awaitStat(a, c1, st -> st == null);
        ctx.check("its parent container, emptied in turn, deleted too", true);
        ctx.check("a container that never had children stays", a.checkExists().forPath(idle) != null, "deleted");
        ctx.check("the persistent root stays", a.checkExists().forPath(ctx.root) != null, "deleted");
        a.createContainers(c2);
        ctx.check("createContainers", a.checkExists().forPath(c2) != null, "no " + c2);
    }

    static void ttl(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        String path = ctx.path("/ttl");
        a.create().withTtl(1000).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(path, b("t"));
        Stat st = a.checkExists().forPath(path);
        // The server keeps the TTL in the node's ephemeralOwner, but ZooKeeper shows clients 0 for TTL and container nodes.
        ctx.eq("TTL node's ephemeralOwner as clients see it", "0", st == null ? null : Long.toHexString(st.getEphemeralOwner()));
        String seq = a.create().withTtl(1000).withMode(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL).forPath(path + "-seq-");
        ctx.check("sequential TTL node", seq.matches(".*-seq-\\d{10}"), "got " + seq);
        awaitStat(a, path, x -> x == null);
        ctx.check("expired TTL node deleted by the server", true);
        awaitStat(a, seq, x -> x == null);
        ctx.check("expired sequential TTL node deleted by the server", true);
    }

    static void persistentTtlNode(Ctx ctx) throws Exception {
        CuratorFramework a = ctx.client();
        CuratorFramework observer = ctx.client();
        String path = ctx.path("/pttl");
        PersistentTtlNode node = ctx.track(new PersistentTtlNode(a, path, 1000, b("v")));
        node.start();
        ctx.check("initial create", node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS));
        ctx.eq("container data", "v", s(observer.getData().forPath(path)));
        Stat touch = awaitStat(observer, path + "/touch", x -> x != null);
        ctx.eq("touch child's ephemeralOwner as clients see it", "0", Long.toHexString(touch.getEphemeralOwner()));
        node.close();
        awaitStat(observer, path + "/touch", x -> x == null);
        ctx.check("untouched child expires", true);
        awaitStat(observer, path, x -> x == null);
        ctx.check("then its container is deleted", true);
    }

    // ------------------------------------------------------------------------------------------------

    /** A TCP relay the test can cut: pause() drops every connection and refuses new ones until resume(). */
    static final class Proxy implements Closeable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
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
            }, "proxy-acceptor");
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
            }, "proxy-pump");
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
