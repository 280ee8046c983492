! integrator.f90 - fixed-step Runge-Kutta 4 integrator for the orbit propagator.
!
! Owner: Maria Rivera (GNC)
! REQ-301: fourth-order accuracy; the step size is fixed by the caller.
! REQ-302: the right-hand side is passed in, so the same integrator serves the orbit and the
!          attitude models.
module integrator
  implicit none
  private
  public :: dp, rhs_interface, rk4_step, rk4_propagate

  integer, parameter :: dp = kind(1.0d0)

  abstract interface
    subroutine rhs_interface(t, y, dydt)
      import :: dp
      real(dp), intent(in) :: t
      real(dp), intent(in) :: y(:)
      real(dp), intent(out) :: dydt(:)
    end subroutine rhs_interface
  end interface

contains

  ! One RK4 step of size h from (t, y): y is replaced by y(t + h).
  subroutine rk4_step(f, t, y, h)
    procedure(rhs_interface) :: f
    real(dp), intent(in) :: t, h
    real(dp), intent(inout) :: y(:)
    real(dp), dimension(size(y)) :: k1, k2, k3, k4

    call f(t, y, k1)
    call f(t + 0.5_dp * h, y + 0.5_dp * h * k1, k2)
    call f(t + 0.5_dp * h, y + 0.5_dp * h * k2, k3)
    call f(t + h, y + h * k3, k4)
    y = y + h / 6.0_dp * (k1 + 2.0_dp * k2 + 2.0_dp * k3 + k4)
  end subroutine rk4_step

  ! n steps of size h from t0: y holds the state at t0 + n*h on return.
  ! TODO(mrivera, GNC-21): adaptive step (RK45) for the eccentric transfer orbits
  subroutine rk4_propagate(f, t0, y, h, n)
    procedure(rhs_interface) :: f
    real(dp), intent(in) :: t0, h
    real(dp), intent(inout) :: y(:)
    integer, intent(in) :: n
    integer :: i

    do i = 0, n - 1
      call rk4_step(f, t0 + i * h, y, h)
    end do
  end subroutine rk4_propagate

end module integrator
