! orbit_prop.f90 - propagates a circular low Earth orbit for one period with the RK4
! integrator (two-body gravity only) and checks that the orbit closes.
!
! REQ-303: after one period the position error is below 1 m with a 10 s step.
! Build and run: make -C gnc run
module two_body_model
  use integrator, only: dp
  implicit none
  private
  public :: mu, two_body

  real(dp), parameter :: mu = 3.986004418e14_dp   ! m^3/s^2, Earth's gravitational parameter

contains

  ! the right-hand side: d/dt (r, v) = (v, -mu r / |r|^3); t is unused (no perturbations yet)
  subroutine two_body(t, y, dydt)
    real(dp), intent(in) :: t
    real(dp), intent(in) :: y(:)
    real(dp), intent(out) :: dydt(:)
    real(dp) :: r

    r = norm2(y(1:3))
    dydt(1:3) = y(4:6)
    dydt(4:6) = -mu / r**3 * y(1:3)
  end subroutine two_body

end module two_body_model

program orbit_prop
  use integrator, only: dp, rk4_propagate
  use two_body_model, only: mu, two_body
  implicit none

  real(dp), parameter :: r_earth = 6378137.0_dp   ! m
  real(dp), parameter :: pi = 3.14159265358979323846_dp
  real(dp) :: y(6), y0(6), r0, v0, period, h, err
  integer :: n

  r0 = r_earth + 500.0e3_dp                       ! a 500 km circular orbit
  v0 = sqrt(mu / r0)
  period = 2.0_dp * pi * sqrt(r0**3 / mu)
  y0 = [r0, 0.0_dp, 0.0_dp, 0.0_dp, v0, 0.0_dp]
  y = y0

  n = nint(period / 10.0_dp)
  h = period / n
  call rk4_propagate(two_body, 0.0_dp, y, h, n)

  err = norm2(y(1:3) - y0(1:3))
  print '(a, f10.2, a)', 'orbital period    ', period, ' s'
  print '(a, i10)', 'steps             ', n
  print '(a, es10.3, a)', 'closure error     ', err, ' m'
  ! FIXME(mrivera): add J2 before the ground station pass predictions use this (GNC-22)
  if (err > 1.0_dp) then
    print '(a)', 'FAIL: REQ-303 closure error above 1 m'
    error stop 1
  end if
  print '(a)', 'PASS: REQ-303'
end program orbit_prop
