package profile

import (
	"context"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pprofdata"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// checkEnableRate validates --enable-rate: mutex or block only, over a
// capture time (DefaultCaptureDuration unless --duration says otherwise).
func (o *options) checkEnableRate(durationSet bool) error {
	if o.name != "mutex" && o.name != "block" {
		return cli.Usagef("--enable-rate is for the mutex and block profiles, whose sampling is off unless a program switches it on; %s has no rate to switch", o.name)
	}
	if !durationSet {
		o.duration = DefaultCaptureDuration
	}
	return target.CheckDuration("duration", o.duration)
}

// captureWithRate has the agent switch name's sampling rate on for d,
// take the profile and restore the rate (apiv1.Client.ProfileWithRate).
func captureWithRate(ctx context.Context, env *cli.Env, t *target.Target, name string, d time.Duration) (captured, error) {
	if err := t.RequireAgent("--enable-rate", "set the rate in the service itself (runtime.SetMutexProfileFraction, runtime.SetBlockProfileRate)"); err != nil {
		return captured{}, err
	}
	stop := Progress(env.Stderr, "capturing "+name+" profile with its rate switched on", d)
	defer stop()
	body, err := t.Agent.ProfileWithRate(ctx, name, d, 0)
	if err != nil {
		return captured{}, err
	}
	defer body.Close()
	data, p, err := pprofdata.Read(body)
	if err != nil {
		return captured{}, cli.Errorf(cli.ExitRemote, "retry; the agent should send the runtime's own profile",
			"%s sent a %s profile gdiag cannot read: %v", t, name, err)
	}
	return captured{data: data, prof: p}, nil
}
