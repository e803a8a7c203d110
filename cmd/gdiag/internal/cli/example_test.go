package cli_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// A command declares its flags in Setup; flags may follow arguments, and
// errors become exit codes with a hint on stderr.
func ExampleMain() {
	hello := cli.Command{
		Name: "hello", Args: "NAME", Summary: "greet", Help: "Greets NAME.",
		Examples: []string{"gdiag hello gopher"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			loud := fs.Bool("loud", false, "shout")
			return func(_ context.Context, env *cli.Env, args []string) error {
				if len(args) != 1 {
					return cli.Usagef("hello takes one NAME")
				}
				if *loud {
					args[0] += "!"
				}
				fmt.Fprintf(env.Stdout, "hello, %s\n", args[0])
				return nil
			}
		},
	}
	cmds := []cli.Command{hello}
	code := cli.Main(context.Background(), []string{"hello", "gopher", "--loud"}, os.Stdout, io.Discard, cmds)
	fmt.Println("exit", code)
	code = cli.Main(context.Background(), []string{"hello"}, os.Stdout, os.Stdout, cmds)
	fmt.Println("exit", code)
	// Output:
	// hello, gopher!
	// exit 0
	// gdiag hello: hello takes one NAME
	// exit 2
}
