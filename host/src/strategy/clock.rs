//! The clocks a guest sees: virtual, so that a search is reproducible.
//!
//! Language runtimes import `wasi:clocks` whether or not a strategy reads the
//! time (componentize-js and componentize-py both do), so refusing the import
//! would refuse their default builds. Serving the host's real clock would let
//! a strategy's proposals depend on when it ran. The virtual clock is the
//! middle way: time starts at the same instant in every instance, advances by
//! one microsecond per reading (so a loop waiting for time to pass ends), and
//! a sleep returns at once, having moved the clock on by its length. The host
//! never blocks on a guest's timer.

use std::time::Duration;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::{monotonic_clock, wall_clock};
use wasmtime_wasi::p2::{subscribe, DynPollable, Pollable};

/// The wall-clock time every instance starts at: 2000-01-01T00:00:00Z.
pub const WALL_START_SECONDS: u64 = 946_684_800;

/// How far the clock moves on every reading, in nanoseconds.
pub const TICK_NANOS: u64 = 1_000;

/// One instance's virtual time: nanoseconds since the instance started.
#[derive(Debug, Default, Clone)]
pub struct VirtualClock {
    nanos: u64,
}

impl VirtualClock {
    fn read(&mut self) -> u64 {
        self.nanos = self.nanos.saturating_add(TICK_NANOS);
        self.nanos
    }

    fn advance_to(&mut self, when: u64) {
        self.nanos = self.nanos.max(when);
    }
}

/// What the clock bindings need from a store: the clock, and the resource
/// table their pollables live in.
pub struct ClockView<'a> {
    pub clock: &'a mut VirtualClock,
    pub table: &'a mut ResourceTable,
}

/// Lets the linker hand out a [`ClockView`] for the clock interfaces.
pub struct Clocks;

impl wasmtime::component::HasData for Clocks {
    type Data<'a> = ClockView<'a>;
}

/// A timer that has already fired: the virtual clock moved when it was made.
struct Fired;

#[async_trait::async_trait]
impl Pollable for Fired {
    async fn ready(&mut self) {}
}

impl ClockView<'_> {
    fn fired(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let timer = self.table.push(Fired)?;
        subscribe(self.table, timer)
    }
}

impl monotonic_clock::Host for ClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.clock.read())
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(TICK_NANOS)
    }

    fn subscribe_instant(&mut self, when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        self.clock.advance_to(when);
        self.fired()
    }

    fn subscribe_duration(&mut self, duration: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        let when = self.clock.nanos.saturating_add(duration);
        self.clock.advance_to(when);
        self.fired()
    }
}

impl wall_clock::Host for ClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        let since = Duration::from_nanos(self.clock.read());
        Ok(wall_clock::Datetime { seconds: WALL_START_SECONDS + since.as_secs(), nanoseconds: since.subsec_nanos() })
    }

    fn resolution(&mut self) -> wasmtime::Result<wall_clock::Datetime> {
        Ok(wall_clock::Datetime { seconds: 0, nanoseconds: TICK_NANOS as u32 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monotonic_clock::Host as _;

    #[test]
    fn readings_advance_and_sleeps_move_the_clock_without_waiting() {
        let mut clock = VirtualClock::default();
        let mut table = ResourceTable::new();
        let mut view = ClockView { clock: &mut clock, table: &mut table };
        let a = view.now().unwrap();
        let b = view.now().unwrap();
        assert_eq!(b - a, TICK_NANOS);
        let started = std::time::Instant::now();
        view.subscribe_duration(3_600_000_000_000).unwrap();
        assert!(view.now().unwrap() > b + 3_600_000_000_000);
        // A timer in the past leaves the clock where it is.
        let now = view.clock.nanos;
        view.subscribe_instant(5).unwrap();
        assert_eq!(view.clock.nanos, now);
        assert!(started.elapsed() < Duration::from_secs(5), "an hour's sleep must not wait");
    }

    #[test]
    fn two_clocks_read_the_same_sequence() {
        let read = || {
            let mut clock = VirtualClock::default();
            let mut table = ResourceTable::new();
            let mut view = ClockView { clock: &mut clock, table: &mut table };
            (0..5).map(|_| wall_clock::Host::now(&mut view).unwrap().nanoseconds).collect::<Vec<_>>()
        };
        assert_eq!(read(), read());
    }
}
